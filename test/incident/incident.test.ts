import { setTimeout as sleep } from 'node:timers/promises';
import { statSync } from 'node:fs';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevIssuerKey, mintDevToken } from '../../src/agent/dev-issuer.js';
import { EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import { openOperatorAudit } from '../../src/audit/operator.js';
import { applyIncidentAction, type IncidentAction } from '../../src/incident/actions.js';
import { incidentPath } from '../../src/incident/state.js';
import { FileIncidentStore } from '../../src/incident/store.js';
import { runCli } from '../helpers/cli.js';
import { detokenizeVia, enrollPuller, type Puller } from '../helpers/detokenize.js';
import { readAuditRecords, startTestServer, type TestServer } from '../helpers/server.js';
import { silence, startTwilioTestBed, syntheticSpeech, TEST_AGENT, waitFor } from '../helpers/twilio.js';

const PUBLIC_URL = 'https://toneguard.test';
const CALL = 'CA00000000000000000000000000001c01';
const PAN = '4111111111111111';

let service: TestServer;
let dataDir: string;
let puller: Puller;
let token: string;

const start = (dir?: string) => startTestServer({ ...(dir ? { dataDir: dir } : {}), incident: { pollMs: 200 }, auth: { clockToleranceSec: 0 } });
const cli = (...args: string[]) => runCli(['incident', ...args], { env: { TONEGUARD_DATA_DIR: dataDir } });
/** What the CLI command runs, in-process (the CLI itself is spawned once, for the freeze: each spawn costs seconds). */
async function operator(action: IncidentAction): Promise<void> {
  const audit = openOperatorAudit(service.context.config);
  await applyIncidentAction(new FileIncidentStore(incidentPath(dataDir)), action, { type: 'operator', id: 'oscar' }, audit);
  await audit.close();
}
const detokenize = () => detokenizeVia(service.url, PUBLIC_URL, puller, token);
const actions = () => readAuditRecords(dataDir).map((r) => r.action);
const bindCall = () => service.context.calls.upsert({ callSid: CALL, agentId: 'alice', state: 'bridged', startedAt: new Date().toISOString() });
const agentBearer = async () => `Bearer ${await mintDevToken(service.context.config, { sub: 'alice', role: 'agent' })}`;

async function startCapture(bearer: string) {
  return fetch(`${service.url}/v1/calls/${CALL}/captures`, {
    method: 'POST',
    headers: { authorization: bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ fields: ['card_number'] }),
  });
}

/** An admin token from the dev issuer, with or without an MFA `amr`. */
async function adminBearer(mfa: boolean): Promise<string> {
  const config = service.context.config;
  const key = loadDevIssuerKey(config.dataDir);
  const jwt = await new SignJWT({ roles: ['admin'], ...(mfa ? { amr: ['pwd', 'otp'] } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setSubject('ada')
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);
  return `Bearer ${jwt}`;
}

beforeAll(async () => {
  service = await start();
  dataDir = service.dataDir;
  puller = await enrollPuller(dataDir);
  bindCall();
  const info = await service.context.vault.tokenizeValues({ kind: 'card', values: { card_number: PAN, expiry: '1239' }, actor: { type: 'system', id: 'test' }, reference: 'r1', readers: ['puller'] });
  token = info.token;
});

afterAll(() => service.close());

describe('the incident switch (slow, real service)', () => {
  it('the CLI freeze reaches the running service: detokenize 503 and capture start 503 incident_frozen, audited', async () => {
    expect((await detokenize()).status).toBe(200);
    const frozen = cli('freeze');
    expect(frozen.status, frozen.stderr).toBe(0);
    expect(frozen.stderr).toContain("queued for the running service's audit trail");
    expect(statSync(incidentPath(dataDir)).mode & 0o777).toBe(0o600);
    await expect.poll(async () => (await detokenize()).status, { timeout: 5000 }).toBe(503);
    expect((await detokenize()).body.error?.code).toBe('incident_frozen');
    const capture = await startCapture(await agentBearer());
    expect(capture.status).toBe(503);
    expect(((await capture.json()) as { error: { code: string } }).error.code).toBe('incident_frozen');
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(/^toneguard_incident_frozen 1$/m);
    await expect.poll(actions, { timeout: 5000 }).toContain('incident.freeze');
    expect(actions()).toEqual(expect.arrayContaining(['incident.applied', 'capture.refused']));
    const refused = readAuditRecords(dataDir).find((r) => r.action === 'processor.detokenize' && r.outcome === 'failure');
    expect(refused?.details).toMatchObject({ code: 'incident_frozen' });
  });

  it('the freeze outlives a restart, and a thaw lifts it', async () => {
    await service.close();
    service = await start(dataDir);
    bindCall();
    expect((await detokenize()).status).toBe(503);
    await operator('thaw');
    await expect.poll(async () => (await detokenize()).status, { timeout: 5000 }).toBe(200);
    expect((await startCapture(await agentBearer())).status).toBe(201);
    service.context.captures.activeForCall(CALL)?.cancel('test_done', { type: 'agent', id: 'alice' });
  });

  it('revoke-sessions refuses every agent token issued before it, and closes open event sockets with 4401', async () => {
    const before = await agentBearer();
    const socket = new WebSocket(service.url.replace(/^http/, 'ws') + '/v1/events', [EVENTS_SUBPROTOCOL, `bearer.${before.slice(7)}`]);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => socket.on('message', () => resolve()));
    await operator('revoke-sessions');
    expect(await Promise.race([closed, sleep(5000).then(() => 'still open')])).toBe(4401);
    expect((await fetch(`${service.url}/v1/me`, { headers: { authorization: before } })).status).toBe(401);
    // `iat` has whole seconds: a token from the next second on is past the cut-off.
    await sleep(1000 - (Date.now() % 1000) + 5);
    expect((await fetch(`${service.url}/v1/me`, { headers: { authorization: await agentBearer() } })).status).toBe(200);
    const revoked = readAuditRecords(dataDir).filter((r) => r.action === 'auth.failed' && r.details?.reason === 'revoked');
    expect(revoked.map((r) => r.details?.channel ?? 'rest')).toEqual(expect.arrayContaining(['events', 'rest']));
  });

  it('an admin with MFA freezes and thaws through the API at once; without MFA it is refused', async () => {
    const noMfa = await fetch(`${service.url}/v1/admin/incident/freeze`, { method: 'POST', headers: { authorization: await adminBearer(false) } });
    expect(noMfa.status).toBe(403);
    expect((await detokenize()).status).toBe(200);
    const admin = await adminBearer(true);
    const freeze = await fetch(`${service.url}/v1/admin/incident/freeze`, { method: 'POST', headers: { authorization: admin } });
    expect(freeze.status).toBe(200);
    expect(await freeze.json()).toMatchObject({ frozen: true });
    expect((await detokenize()).status).toBe(503);
    const state = await fetch(`${service.url}/v1/admin/incident`, { headers: { authorization: admin } });
    expect(await state.json()).toMatchObject({ frozen: true });
    expect((await fetch(`${service.url}/v1/admin/incident/thaw`, { method: 'POST', headers: { authorization: admin } })).status).toBe(200);
    expect((await detokenize()).status).toBe(200);
    const freezes = readAuditRecords(dataDir).filter((r) => r.action === 'incident.freeze');
    expect(freezes.at(-1)?.actor).toMatchObject({ type: 'agent', id: 'ada' });
    const denied = readAuditRecords(dataDir).filter((r) => r.action === 'auth.denied' && r.details?.reason === 'mfa_required');
    expect(denied).toHaveLength(1);
  });
});

describe('a freeze during a live call (slow, real service)', () => {
  it('refuses a new capture on the call while its audio keeps flowing to the agent', async () => {
    const bed = await startTwilioTestBed();
    try {
      const call = await bed.dial();
      await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
      await bed.server.context.incident.apply('freeze', { type: 'agent', id: 'ada' });
      expect(() => bed.server.context.captures.start({ callSid: call.callSid, fields: [{ name: 'card_number' }], actor: TEST_AGENT })).toThrow(
        expect.objectContaining({ code: 'incident_frozen' }),
      );
      const speech = syntheticSpeech(400);
      await Promise.all([call.callerPlays(speech, 4), call.agentPlays(silence(400), 4)]);
      await waitFor(() => call.agent.receivedAudio().length >= speech.length / 2);
      expect(call.agent.receivedAudio().some((sample) => sample !== 0)).toBe(true);
      await call.hangUp();
    } finally {
      await bed.close();
    }
  });
});
