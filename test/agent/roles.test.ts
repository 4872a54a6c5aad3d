import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Actor } from '../../src/audit/types.js';
import { redactConfig } from '../../src/config/redacted-view.js';
import { TEST_AUTH_TOKEN } from '../helpers/server.js';
import { startAgentApi, type AgentApi } from './fixtures.js';

const AUDIT_HMAC_KEY = 'roles-test-audit-hmac-key-0123456789';
const CONNECTOR_PASSWORD = 'roles-test-connector-password';

let api: AgentApi;
/** The live call bound to alice. */
let call: string;
const ALICE: Actor = { type: 'agent', id: 'alice', roles: ['agent'] };

beforeAll(async () => {
  api = await startAgentApi({ audit: { hmacKey: AUDIT_HMAC_KEY }, connector: { username: 'twilio-pay', password: CONNECTOR_PASSWORD } });
  call = api.bindCall('alice');
});
afterAll(() => api.close());
afterEach(() => api.server.context.captures.activeForCall(call)?.cancel('test_cleanup', ALICE));

const WHO = {
  'agent (own call)': ['alice', 'agent'],
  'agent (other call)': ['bob', 'agent'],
  supervisor: ['sue', 'supervisor'],
  admin: ['ada', 'admin'],
  processor: ['pat', 'processor'],
  auditor: ['aud', 'auditor'],
  'no role': ['nobody', 'guest'],
} as const satisfies Record<string, readonly [string, string]>;
type Who = keyof typeof WHO;

interface Route {
  route: string;
  method: 'get' | 'post';
  /** The path; `{call}` and `{capture}` are filled in per cell. */
  path: string;
  body?: object;
  /** Expected status for each identity. */
  expect: Record<Who, number>;
}

const operatorsOnOwnCall = { 'agent (own call)': 200, 'agent (other call)': 403, supervisor: 200, admin: 403, processor: 403, auditor: 403, 'no role': 403 };
const only = (who: Who): Record<Who, number> => ({ ...operatorsOnOwnCall, 'agent (own call)': 403, supervisor: 403, [who]: 200 });

const ROUTES: Route[] = [
  { route: 'GET /v1/me', method: 'get', path: '/v1/me', expect: { ...operatorsOnOwnCall, 'agent (other call)': 200, admin: 200, processor: 200, auditor: 200, 'no role': 200 } },
  { route: 'GET /v1/calls', method: 'get', path: '/v1/calls', expect: { ...operatorsOnOwnCall, 'agent (other call)': 200 } },
  { route: 'POST /v1/calls/{sid}/captures', method: 'post', path: '/v1/calls/{call}/captures', body: { fields: ['card_number'] }, expect: { ...operatorsOnOwnCall, 'agent (own call)': 201, supervisor: 201 } },
  { route: 'GET /v1/captures/{id}', method: 'get', path: '/v1/captures/{capture}', expect: operatorsOnOwnCall },
  { route: 'POST /v1/captures/{id}/cancel', method: 'post', path: '/v1/captures/{capture}/cancel', expect: operatorsOnOwnCall },
  { route: 'POST /v1/captures/{id}/fields/{f}/reset', method: 'post', path: '/v1/captures/{capture}/fields/card_number/reset', expect: operatorsOnOwnCall },
  { route: 'GET /v1/admin/config', method: 'get', path: '/v1/admin/config', expect: only('admin') },
  { route: 'GET /v1/audit', method: 'get', path: '/v1/audit?limit=10', expect: only('auditor') },
  { route: 'GET /v1/audit/verify', method: 'get', path: '/v1/audit/verify', expect: only('auditor') },
  // Allowed, but no `toneguard evidence` ran against this data directory: 404 evidence_not_found (test/agent/evidence.test.ts covers the 200).
  { route: 'GET /v1/evidence', method: 'get', path: '/v1/evidence', expect: { ...only('auditor'), auditor: 404, admin: 404 } },
  // The processor's route takes processor client authentication (mTLS or private_key_jwt) only: an agent JWT of any role is refused.
  { route: 'POST /v1/detokenize (agent JWT)', method: 'post', path: '/v1/detokenize', body: { token: 'tok_roles_test' }, expect: { ...operatorsOnOwnCall, 'agent (own call)': 401, 'agent (other call)': 401, supervisor: 401, admin: 401, processor: 401, auditor: 401, 'no role': 401 } },
];

const CELLS = ROUTES.flatMap((r) => (Object.keys(WHO) as Who[]).map((who) => ({ ...r, who, status: r.expect[who] })));

describe('role matrix: every route, every role', () => {
  it.each(CELLS)('$route as $who → $status', async ({ method, path, body, who, status }) => {
    const [sub, role] = WHO[who];
    const capture = path.includes('{capture}')
      ? api.server.context.captures.start({ callSid: call, fields: [{ name: 'card_number' }], actor: ALICE }).id
      : '';
    const before = api.lastSeq();
    const req = request(api.server.url)[method](path.replace('{call}', call).replace('{capture}', capture)).set('authorization', await api.bearer(sub, role));
    const res = await (body ? req.send(body) : req);

    expect(res.status).toBe(status);
    const written = api.auditSince(before);
    const denials = written.filter((r) => r.action === 'auth.denied' && r.actor.id === sub);
    if (status === 403) {
      expect(res.body.error.code).toBe('forbidden');
      expect(denials).toHaveLength(1);
      expect(denials[0]).toMatchObject({ outcome: 'denied', details: { reason: expect.stringMatching(/^(role|not_call_agent)$/) } });
      expect(denials[0]!.resource?.id).toBeTruthy();
    } else {
      expect(denials).toHaveLength(0);
    }
    if (status === 401) {
      expect(written.some((r) => r.action === 'processor.detokenize' && r.outcome === 'denied')).toBe(true);
    }
  });
});

describe('what each role sees', () => {
  it('agents see only their own calls; /v1/me lists calls for agents only', async () => {
    const list = async (sub: string, role: string) =>
      (await request(api.server.url).get('/v1/calls').set('authorization', await api.bearer(sub, role)).expect(200)).body.calls.map((c: { callSid: string }) => c.callSid);
    expect(await list('alice', 'agent')).toContain(call);
    expect(await list('bob', 'agent')).not.toContain(call);
    expect(await list('sue', 'supervisor')).toContain(call);
    const me = await request(api.server.url).get('/v1/me').set('authorization', await api.bearer('pat', 'processor')).expect(200);
    expect(me.body).toEqual({ sub: 'pat', roles: ['processor'], calls: [] });
  });

  it('admin: the effective configuration without a single secret', async () => {
    const res = await request(api.server.url).get('/v1/admin/config').set('authorization', await api.bearer('ada', 'admin')).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    for (const secret of [TEST_AUTH_TOKEN, AUDIT_HMAC_KEY, CONNECTOR_PASSWORD]) expect(res.text).not.toContain(secret);
    expect(res.body.removed).toEqual(expect.arrayContaining(['twilio.authToken', 'audit.hmacKey', 'connector.password', 'connector.username']));
    expect(res.body.config.twilio.accountSid).toBe(api.server.context.config.twilio.accountSid);
    expect(res.body.config.vault.tokenFormat).toBe('random');
    expect(res.body.config.http.bodyLimitBytes).toBe(api.server.context.config.http.bodyLimitBytes);
  });

  it('config redaction: secret-looking names at any depth, private JWK members, URL credentials', () => {
    const { config, removed } = redactConfig({
      vault: { keks: ['1:AAAA'], fingerprintKey: 'fp', tokenTtlMs: 5, kekFile: '/etc/keks' },
      processors: [{ name: 'p', clientSecret: 's', apiKey: 'k', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private', kid: 'k1' } }],
      hooks: { webhookSecret: 'w', url: 'https://user:pass@hooks.example.test/path?sig=abc#frag' },
      audit: { alertWebhookUrl: 'https://hooks.example.test/services/T0/B0/secretpath' },
      cardNumber: '4111111111111111',
    });
    expect(JSON.stringify(config)).not.toMatch(/AAAA|"fp"|"private"|pass|sig=abc|secretpath|4111111111111111|clientSecret|apiKey/);
    expect(config).toMatchObject({
      vault: { tokenTtlMs: 5, kekFile: '/etc/keks' },
      processors: [{ name: 'p', jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' } }],
      hooks: { url: 'https://hooks.example.test/path' },
    });
    expect(removed.sort()).toEqual(
      ['audit.alertWebhookUrl', 'cardNumber', 'hooks.webhookSecret', 'processors[0].apiKey', 'processors[0].clientSecret', 'processors[0].jwk.d', 'vault.fingerprintKey', 'vault.keks'].sort(),
    );
  });

  it('auditor: pages of the trail, newest last, from a seq or a time, and the chain check', async () => {
    const auditor = await api.bearer('aud', 'auditor');
    const get = (query: string) => request(api.server.url).get(`/v1/audit${query}`).set('authorization', auditor);
    const tail = (await get('?limit=5').expect(200)).body;
    const seqs = tail.records.map((r: { seq: number }) => r.seq);
    expect(seqs).toHaveLength(5);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(tail.next).toBe(String(seqs[4]));

    const all = api.server.auditRecords();
    const from = all[2]!;
    const page = (await get(`?after=${from.seq}&limit=3`).expect(200)).body.records;
    expect(page.map((r: { seq: number }) => r.seq)).toEqual([from.seq + 1, from.seq + 2, from.seq + 3]);
    expect(page[0]).toEqual(all[3]);

    const byTime = (await get(`?after=${encodeURIComponent(new Date(Date.parse(all[0]!.ts) - 1).toISOString())}&limit=1`).expect(200)).body.records;
    expect(byTime[0].seq).toBe(all[0]!.seq);
    expect(api.server.auditRecords().at(-1)).toMatchObject({ action: 'audit.exported', actor: { id: 'aud' }, outcome: 'success' });

    const verify = await request(api.server.url).get('/v1/audit/verify').set('authorization', auditor).expect(200);
    expect(verify.body).toMatchObject({ ok: true });
    expect(verify.body.records).toBeGreaterThan(0);
  });

  it.each(['?limit=0', '?limit=1001', '?limit=ten', '?limit=1&limit=2', '?after=yesterday', '?after=-1', '?format=csv'])('auditor: GET /v1/audit%s → 422', async (query) => {
    const res = await request(api.server.url).get(`/v1/audit${query}`).set('authorization', await api.bearer('aud', 'auditor'));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_request');
  });
});
