import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/twilio.js';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import type { CaptureView } from '../../src/capture/types.js';

const ALICE_CALL = 'CA0000000000000000000000000000e001';
const BOB_CALL = 'CA0000000000000000000000000000e002';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ events: { heartbeatMs: 1000, authTimeoutMs: 1000 }, auth: { clockToleranceSec: 0 } });
  const startedAt = new Date().toISOString();
  server.context.calls.upsert({ callSid: ALICE_CALL, agentId: 'alice', state: 'bridged', startedAt });
  server.context.calls.upsert({ callSid: BOB_CALL, agentId: 'bob', state: 'bridged', startedAt });
});
afterAll(() => server.close());

const token = (sub: string, role: string) => mintDevToken(server.context.config, { sub, role });

interface Received {
  type: string;
  view?: CaptureView;
  call?: { callSid: string; from?: string };
  [key: string]: unknown;
}

/** A real `ws` client that records every event and how the socket closed. */
class EventsClient {
  readonly events: Received[] = [];
  closed: { code: number } | undefined;
  readonly ws: WebSocket;

  constructor(protocols: string[], path = '/v1/events', headers: Record<string, string> = {}) {
    this.ws = new WebSocket(server.url.replace(/^http/, 'ws') + path, protocols, { headers });
    this.ws.on('message', (data) => this.events.push(JSON.parse(data.toString()) as Received));
    this.ws.on('close', (code) => (this.closed = { code }));
    this.ws.on('error', () => undefined);
  }

  static async bearer(sub: string, role: string): Promise<EventsClient> {
    return new EventsClient([EVENTS_SUBPROTOCOL, `bearer.${await token(sub, role)}`]);
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  views(captureId: string): CaptureView[] {
    return this.events.flatMap((e) => (e.type === 'capture' && e.view?.id === captureId ? [e.view] : []));
  }

  latest(captureId: string): CaptureView | undefined {
    return this.views(captureId).at(-1);
  }

  close(): void {
    this.ws.close();
  }
}

async function startCapture(sub: string, callSid: string, fields: string[] = ['card_number', 'expiry', 'cvv']): Promise<string> {
  const res = await request(server.url)
    .post(`/v1/calls/${callSid}/captures`)
    .set('authorization', `Bearer ${await token(sub, 'agent')}`)
    .send({ fields })
    .expect(201);
  return res.body.id as string;
}

function key(captureId: string, digits: string): void {
  const session = server.context.captures.get(captureId)!;
  for (const digit of digits) session.press(digit as '0', 0, 'event');
}

describe('WS /v1/events', () => {
  it('authenticates by subprotocol, resumes with the current state, then pushes every view change', async () => {
    const captureId = await startCapture('alice', ALICE_CALL);
    const alice = await EventsClient.bearer('alice', 'agent');
    await alice.opened();
    expect(alice.ws.protocol).toBe(EVENTS_SUBPROTOCOL);
    await waitFor(() => alice.latest(captureId));
    expect(alice.events[0]).toMatchObject({ type: 'ready', sub: 'alice', roles: ['agent'] });
    expect(alice.events.some((e) => e.type === 'call' && e.call?.callSid === ALICE_CALL)).toBe(true);

    key(captureId, '4111111111111111#');
    const card = await waitFor(() => alice.latest(captureId)?.fields.find((f) => f.name === 'card_number' && f.state === 'complete'));
    expect(card).toMatchObject({ brand: 'visa', last4: '1111', valid: true, digitCount: 16 });
    const versions = alice.views(captureId).map((v) => v.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(JSON.stringify(alice.events)).not.toContain('4111111111111111');

    server.context.captures.get(captureId)!.cancel('test', { type: 'system', id: 'test' });
    await waitFor(() => alice.latest(captureId)?.state === 'cancelled');
    alice.close();

    const again = await EventsClient.bearer('alice', 'agent');
    const resumed = await waitFor(() => again.latest(captureId));
    expect(resumed.state).toBe('cancelled');
    again.close();
  });

  it('accepts the token as the first message, and never from the URL query', async () => {
    const first = new EventsClient([EVENTS_SUBPROTOCOL]);
    await first.opened();
    first.ws.send(JSON.stringify({ type: 'auth', token: await token('alice', 'agent') }));
    await waitFor(() => first.events.find((e) => e.type === 'ready'));
    first.close();

    const before = server.auditRecords().length;
    const query = new EventsClient([EVENTS_SUBPROTOCOL], `/v1/events?access_token=${await token('alice', 'agent')}`);
    await waitFor(() => query.closed, 5000);
    expect(query.closed?.code).toBe(4401);
    expect(query.events).toEqual([]);
    const failure = server.auditRecords().slice(before).find((r) => r.action === 'auth.failed');
    expect(failure?.details).toMatchObject({ reason: 'auth_timeout', channel: 'events' });
  });

  it.each([
    ['a forged token', async () => (await token('alice', 'agent')).slice(0, -4) + 'AAAA', 'bad_signature'],
    ['garbage', async () => 'not-a-jwt', 'malformed'],
    ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice","roles":["agent"]}').toString('base64url')}.`, 'alg_not_allowed'],
  ])('closes 4401 on %s and audits it', async (_label, bad, reason) => {
    const before = server.auditRecords().length;
    const client = new EventsClient([EVENTS_SUBPROTOCOL, `bearer.${await bad()}`]);
    await waitFor(() => client.closed);
    expect(client.closed?.code).toBe(4401);
    expect(client.events).toEqual([]);
    await waitFor(() => server.auditRecords().slice(before).find((r) => r.action === 'auth.failed'));
    const failure = server.auditRecords().slice(before).find((r) => r.action === 'auth.failed');
    expect(failure?.details?.reason).toBe(reason);
  });

  it('refuses roles that do not watch captures with 4403', async () => {
    for (const role of ['admin', 'processor', 'auditor']) {
      const client = await EventsClient.bearer('sam', role);
      await waitFor(() => client.closed);
      expect(client.closed?.code).toBe(4403);
    }
  });

  it('closes 4401 when the token that opened the socket expires, and audits it', async () => {
    const before = server.auditRecords().length;
    const jwt = await mintDevToken(server.context.config, { sub: 'alice', role: 'agent', lifetimeSec: 2 });
    const client = new EventsClient([EVENTS_SUBPROTOCOL, `bearer.${jwt}`]);
    await waitFor(() => client.events.find((e) => e.type === 'ready'));
    await waitFor(() => client.closed, 5000);
    expect(client.closed?.code).toBe(4401);
    const failure = server.auditRecords().slice(before).find((r) => r.action === 'auth.failed');
    expect(failure).toMatchObject({ actor: { id: 'alice' }, details: { reason: 'expired', channel: 'events' } });
  });

  it('shows an agent only their own calls; a supervisor sees every call', async () => {
    const bob = await EventsClient.bearer('bob', 'agent');
    const supervisor = await EventsClient.bearer('sue', 'supervisor');
    await Promise.all([bob.opened(), supervisor.opened()]);
    await waitFor(() => bob.events.find((e) => e.type === 'ready') && supervisor.events.find((e) => e.type === 'ready'));
    const captureId = await startCapture('alice', ALICE_CALL, ['cvv']);
    key(captureId, '123');
    await waitFor(() => supervisor.latest(captureId)?.fields[0]?.digitCount === 3);
    const bobsCapture = await startCapture('bob', BOB_CALL, ['cvv']);
    await waitFor(() => bob.latest(bobsCapture));
    expect(bob.views(captureId)).toEqual([]);
    expect(bob.events.every((e) => e.type !== 'call' || e.call?.callSid === BOB_CALL)).toBe(true);
    expect(supervisor.events.some((e) => e.type === 'call' && e.call?.callSid === BOB_CALL)).toBe(true);
    for (const id of [captureId, bobsCapture]) server.context.captures.get(id)!.cancel('test', { type: 'system', id: 'test' });
    bob.close();
    supervisor.close();
  });

  it('sends heartbeats', async () => {
    const client = await EventsClient.bearer('alice', 'agent');
    const beat = await waitFor(() => client.events.find((e) => e.type === 'heartbeat'), 5000);
    expect(Date.parse(beat.at as string)).not.toBeNaN();
    client.close();
  });

  it('closes 4400 on a malformed or binary message', async () => {
    for (const payload of ['{"type":"subscribe"}', 'not json', Buffer.from([1, 2, 3])]) {
      const client = await EventsClient.bearer('alice', 'agent');
      await waitFor(() => client.events.find((e) => e.type === 'ready'));
      client.ws.send(payload);
      await waitFor(() => client.closed);
      expect(client.closed?.code).toBe(4400);
    }
  });

  it('refuses an upgrade from a foreign browser origin', async () => {
    const client = new EventsClient([EVENTS_SUBPROTOCOL], '/v1/events', { origin: 'https://evil.example' });
    await expect(client.opened()).rejects.toThrow(/403/);
  });

  it('drops a client that stops reading, while other clients and captures carry on', async () => {
    const stuck = await EventsClient.bearer('alice', 'agent');
    const healthy = await EventsClient.bearer('sue', 'supervisor');
    await waitFor(() => stuck.events.find((e) => e.type === 'ready') && healthy.events.find((e) => e.type === 'ready'));
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // Large call updates fill the socket buffers quickly without touching the audit trail; the
    // pauses let the healthy client, which lives in this same process, keep reading.
    for (let i = 0; i < 400 && !stuck.closed; i++) {
      server.context.calls.update(ALICE_CALL, { from: `+1${String(i).padStart(60_000, '5')}` });
      await new Promise(setImmediate);
    }
    const metrics = await request(server.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/toneguard_event_clients_dropped_total\{reason="too_slow"\} 1\n/);
    expect(healthy.closed).toBeUndefined();
    server.context.calls.update(ALICE_CALL, { from: '+15550100' });

    const captureId = await startCapture('alice', ALICE_CALL, ['cvv']);
    await waitFor(() => healthy.latest(captureId));
    server.context.captures.get(captureId)!.cancel('test', { type: 'system', id: 'test' });
    healthy.close();
  });
});
