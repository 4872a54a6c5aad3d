/**
 * The agent-leg takeover found by the attack on a running instance (issue 12, item 3) and the
 * replay and idle-socket findings beside it (item 7), each replayed with real ws clients against
 * the real service: a replayed upgrade and `start` of an earlier call, forged, expired and reused
 * stream credentials, an agent leg Toneguard did not place, the ids an agent or supervisor is shown,
 * a signed inbound webhook replayed after a restart, and a socket that never starts its stream.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import { readAuditRecords, TEST_ACCOUNT_SID } from '../helpers/server.js';
import {
  parseStreamTwiml,
  postTwilioWebhook,
  randomSid,
  signTwilio,
  startTwilioTestBed,
  TwilioStreamClient,
  waitFor,
  type TwilioTestBed,
} from '../helpers/twilio.js';

const INBOUND = '/twilio/voice/inbound';
/** Everything an agent-facing call view may hold. */
const CALL_VIEW_KEYS = ['callSid', 'agentId', 'from', 'state', 'startedAt', 'endedAt', 'masking', 'verification'];

const inboundParams = () => ({ AccountSid: TEST_ACCOUNT_SID, CallSid: randomSid('CA'), From: '+15005550006', To: '+15005550001', CallStatus: 'ringing', Direction: 'inbound' });

interface RingingCall {
  callSid: string;
  caller: TwilioStreamClient;
  /** The `<Parameter>`s of the caller's stream instruction. */
  callerParameters: Record<string, string>;
  /** The agent leg Toneguard placed through the REST stand-in, not yet answered. */
  agentUrl: string;
  agentCallSid: string;
}

/** A call whose caller stream runs and whose agent leg has been placed but not answered. */
async function ringingCall(bed: TwilioTestBed): Promise<RingingCall> {
  const seen = new Set(bed.standIn.requests);
  const params = inboundParams();
  const answer = await postTwilioWebhook(bed.target, INBOUND, params);
  const stream = parseStreamTwiml(answer.body);
  if (!stream) throw new Error(`no stream in the inbound answer (${answer.status})`);
  const caller = await TwilioStreamClient.open(bed.target, { callSid: params.CallSid, accountSid: TEST_ACCOUNT_SID, parameters: stream.parameters });
  const created = await bed.standIn.waitForCall((r) => !seen.has(r));
  await waitFor(() => bed.server.context.calls.get(params.CallSid));
  return { callSid: params.CallSid, caller, callerParameters: stream.parameters, agentUrl: created.request.params.Url, agentCallSid: created.callSid };
}

/** Answers the agent leg as Twilio would: the signed agent webhook for the CallSid the REST create returned. */
async function agentWebhook(bed: TwilioTestBed, call: RingingCall, agentCallSid = call.agentCallSid) {
  const answer = await postTwilioWebhook(bed.target, call.agentUrl, { AccountSid: TEST_ACCOUNT_SID, CallSid: agentCallSid, CallStatus: 'in-progress', Direction: 'outbound-api' });
  return { ...answer, stream: parseStreamTwiml(answer.body) };
}

/** A bridged call, played step by step so that the test holds every message Twilio's side sent. */
async function answeredCall(bed: TwilioTestBed) {
  const ringing = await ringingCall(bed);
  const agentParameters = (await agentWebhook(bed, ringing)).stream!.parameters;
  const agent = await TwilioStreamClient.open(bed.target, { callSid: ringing.agentCallSid, accountSid: TEST_ACCOUNT_SID, parameters: agentParameters });
  await waitFor(() => bed.server.context.calls.get(ringing.callSid)?.state === 'bridged');
  const hangUp = async () => {
    await Promise.all([ringing.caller.stop(), agent.stop()]);
    await postTwilioWebhook(bed.target, '/twilio/status/call', { AccountSid: TEST_ACCOUNT_SID, CallSid: ringing.callSid, CallStatus: 'completed' });
  };
  return { ...ringing, agentParameters, hangUp };
}

/** Plays a signed upgrade and a `start` on a real socket; resolves to how the server closed it, or `undefined` if it kept it. */
async function playStart(bed: TwilioTestBed, callSid: string, parameters: Record<string, string>, keepMs = 1500) {
  const client = await TwilioStreamClient.open(bed.target, { callSid, accountSid: TEST_ACCOUNT_SID, parameters });
  const outcome = await Promise.race([client.closed(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), keepMs))]);
  if (!outcome) await client.stop();
  return outcome;
}

function auditRecords(bed: TwilioTestBed) {
  (bed.server.context.audit as { flush?: () => void }).flush?.();
  return bed.server.auditRecords();
}

function refusedStarts(bed: TwilioTestBed): { reason: unknown; leg: unknown }[] {
  return auditRecords(bed)
    .filter((r) => r.action === 'media.stream_refused')
    .map((r) => ({ reason: r.details?.reason, leg: r.details?.leg }));
}

async function getJson(bed: TwilioTestBed, path: string, bearer: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${bed.server.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('attack: agent-leg takeover and stream credentials', () => {
  let bed: TwilioTestBed;
  let supervisor: string;

  beforeAll(async () => {
    bed = await startTwilioTestBed({ http: { requestsPerMinutePerIp: 100_000 } });
    supervisor = await mintDevToken(bed.server.context.config, { sub: 'mallory', role: 'supervisor' });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it("refuses a replayed upgrade and start of an earlier call's agent leg aimed at a new ringing call", async () => {
    const earlier = await answeredCall(bed);
    const captured = { callSid: earlier.agentCallSid, parameters: earlier.agentParameters };
    await earlier.hangUp();

    const ringing = await ringingCall(bed);
    // The supervisor reads the new call as the attacker did, and uses whatever it shows.
    const listed = ((await getJson(bed, '/v1/calls', supervisor)).calls as Record<string, string>[]).find((c) => c.callSid === ringing.callSid)!;
    const session: Record<string, string> = listed.sessionId ? { session: listed.sessionId } : {};
    const replay = await playStart(bed, captured.callSid, { ...captured.parameters, ...session });
    const retargeted = await playStart(bed, listed.agentCallSid ?? ringing.callSid, { ...captured.parameters, ...session, agent: 'mallory' });

    expect(replay).toEqual({ code: 1008, reason: 'credential_reused' });
    expect(retargeted).toEqual({ code: 1008, reason: 'credential_invalid' });
    expect(bed.server.context.calls.get(ringing.callSid)?.state).toBe('ringing');
    expect(bed.server.context.calls.get(ringing.callSid)?.agentId).toBeUndefined();
    expect(refusedStarts(bed)).toEqual(expect.arrayContaining([
      { reason: 'credential_reused', leg: 'agent' },
      { reason: 'credential_invalid', leg: 'agent' },
    ]));

    // The real agent still gets the call.
    const answer = await agentWebhook(bed, ringing);
    const agent = await TwilioStreamClient.open(bed.target, { callSid: ringing.agentCallSid, accountSid: TEST_ACCOUNT_SID, parameters: answer.stream!.parameters });
    await waitFor(() => bed.server.context.calls.get(ringing.callSid)?.state === 'bridged');
    expect(bed.server.context.calls.get(ringing.callSid)?.agentId).toBe('agent');
    await Promise.all([ringing.caller.stop(), agent.stop()]);
  });

  it('refuses a forged or reused credential on the caller leg, closing the socket and auditing it', async () => {
    const params = inboundParams();
    const stream = parseStreamTwiml((await postTwilioWebhook(bed.target, INBOUND, params)).body)!;
    const genuine = stream.parameters;
    const [expiry, nonce, mac] = (genuine.credential ?? '..').split('.');
    const forgedMac = `${expiry}.${nonce}.${(mac ?? '').replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`;

    expect(await playStart(bed, params.CallSid, { ...genuine, credential: forgedMac })).toEqual({ code: 1008, reason: 'credential_invalid' });
    expect(await playStart(bed, params.CallSid, { leg: 'caller', session: 'guessed' })).toEqual({ code: 1008, reason: 'credential_invalid' });

    // The genuine stream still opens the call (the caller hears ringback), and its credential is then spent.
    const caller = await TwilioStreamClient.open(bed.target, { callSid: params.CallSid, accountSid: TEST_ACCOUNT_SID, parameters: genuine });
    await waitFor(() => caller.received.length > 0);
    expect(await playStart(bed, params.CallSid, genuine)).toEqual({ code: 1008, reason: 'credential_reused' });
    expect(caller.open).toBe(true);
    expect(refusedStarts(bed)).toEqual(expect.arrayContaining([
      { reason: 'credential_invalid', leg: 'caller' },
      { reason: 'credential_reused', leg: 'caller' },
    ]));
    await caller.stop();
  });

  it('accepts an agent leg only for the agent call Toneguard placed', async () => {
    const ringing = await ringingCall(bed);
    const before = auditRecords(bed).length;

    // The agent webhook, signed, for a CallSid the REST create did not return: no stream instruction.
    const foreign = await agentWebhook(bed, ringing, randomSid('CA'));
    expect(foreign.status).toBe(200);
    expect(foreign.body).toContain('<Hangup/>');
    expect(foreign.stream).toBeUndefined();
    expect(auditRecords(bed).slice(before).some((r) => r.action === 'twilio.webhook_refused' && r.details?.reason === 'agent_call_not_placed')).toBe(true);

    // The genuine instruction, started under another CallSid: refused.
    const genuine = await agentWebhook(bed, ringing);
    expect(genuine.stream?.parameters).toMatchObject({ leg: 'agent', agent: 'agent' });
    // The same agent webhook again (a replay): answered once only.
    expect((await agentWebhook(bed, ringing)).body).toContain('<Hangup/>');
    expect(await playStart(bed, randomSid('CA'), genuine.stream!.parameters)).toEqual({ code: 1008, reason: 'credential_invalid' });
    expect(bed.server.context.calls.get(ringing.callSid)?.state).toBe('ringing');
    expect(bed.server.context.calls.get(ringing.callSid)?.agentId).toBeUndefined();
    await ringing.caller.stop();
  });

  it('shows no session id or leg-joining id in /v1/calls, /v1/me or the events socket', async () => {
    const call = await answeredCall(bed);
    const agentToken = await mintDevToken(bed.server.context.config, { sub: 'agent', role: 'agent' });
    const events: Record<string, unknown>[] = [];
    const socket = new WebSocket(`${bed.server.url.replace(/^http/, 'ws')}/v1/events`, [EVENTS_SUBPROTOCOL, `bearer.${agentToken}`]);
    socket.on('message', (data) => events.push(JSON.parse(data.toString()) as Record<string, unknown>));
    await waitFor(() => events.some((e) => e.type === 'call'));

    const calls = ((await getJson(bed, '/v1/calls', supervisor)).calls as Record<string, unknown>[]).filter((c) => c.callSid === call.callSid);
    const mine = ((await getJson(bed, '/v1/me', agentToken)).calls as Record<string, unknown>[]).filter((c) => c.callSid === call.callSid);
    await call.hangUp();
    await waitFor(() => events.some((e) => e.type === 'call' && (e.call as { state: string }).state === 'ended'));
    socket.close();
    const eventCalls = events.filter((e) => e.type === 'call').map((e) => e.call as Record<string, unknown>);

    expect(calls).toHaveLength(1);
    expect(mine).toHaveLength(1);
    const secrets = [call.agentCallSid, call.callerParameters.credential, call.agentParameters.credential];
    for (const shown of [...calls, ...mine, ...eventCalls]) {
      expect(Object.keys(shown).every((key) => CALL_VIEW_KEYS.includes(key)), `keys ${Object.keys(shown).join(',')}`).toBe(true);
      const text = JSON.stringify(shown);
      expect(text).not.toMatch(/session/i);
      for (const secret of secrets) if (secret) expect(text).not.toContain(secret);
    }
  });
});

describe('attack: a signed inbound webhook replayed after a restart', () => {
  it('places no new agent call, answers with a hang-up, and keeps the handled CallSids in a 0600 file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-replay-'));
    const params = inboundParams();
    const first = await startTwilioTestBed({ dataDir });
    const signature = signTwilio(first.target.authToken, `${first.target.publicUrl}${INBOUND}`, params);
    try {
      expect(parseStreamTwiml((await postTwilioWebhook(first.target, INBOUND, params, signature)).body)).toBeDefined();
      await first.standIn.waitForCall(() => true);
    } finally {
      await first.close();
    }

    const second = await startTwilioTestBed({ dataDir });
    try {
      const replay = await postTwilioWebhook(second.target, INBOUND, params, signature);
      expect(replay.status).toBe(200);
      expect(replay.body).toContain('<Hangup/>');
      expect(parseStreamTwiml(replay.body)).toBeUndefined();
      expect(second.server.context.calls.get(params.CallSid)).toBeUndefined();
      // A new call still gets through; its agent call is the only one placed since the restart.
      const fresh = inboundParams();
      expect(parseStreamTwiml((await postTwilioWebhook(second.target, INBOUND, fresh)).body)).toBeDefined();
      await waitFor(() => second.standIn.requests.some((r) => r.path.endsWith('/Calls.json')));
      expect(second.standIn.requests.filter((r) => r.path.endsWith('/Calls.json')).map((r) => r.params.Url)).toEqual([expect.stringContaining(fresh.CallSid)]);
      (second.server.context.audit as { flush?: () => void }).flush?.();
      // The test server's own helper reads its default data directory; this one was passed in.
      const refusals = readAuditRecords(dataDir).filter((r) => r.action === 'twilio.webhook_refused');
      expect(refusals.map((r) => [r.resource?.id, r.details?.reason])).toEqual([[params.CallSid, 'already_handled']]);
      expect(statSync(join(dataDir, 'twilio-calls.db')).mode & 0o777).toBe(0o600);
    } finally {
      await second.close();
    }
  });
});

describe('attack: expired credentials and silent sockets', () => {
  let bed: TwilioTestBed;

  beforeAll(async () => {
    bed = await startTwilioTestBed({ media: { streamCredentialTtlMs: 1, startTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('refuses a credential presented after it expired', async () => {
    const params = inboundParams();
    const stream = parseStreamTwiml((await postTwilioWebhook(bed.target, INBOUND, params)).body)!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await playStart(bed, params.CallSid, stream.parameters)).toEqual({ code: 1008, reason: 'credential_expired' });
    expect(refusedStarts(bed)).toContainEqual({ reason: 'credential_expired', leg: 'caller' });
  });

  it('closes a signed socket that never sends start once media.startTimeoutMs has passed', async () => {
    const path = '/media/twilio';
    const signature = signTwilio(bed.target.authToken, `${bed.target.publicUrl.replace(/^http/, 'ws')}${path}`, {});
    const ws = new WebSocket(`${bed.target.baseUrl.replace(/^http/, 'ws')}${path}`, { headers: { 'x-twilio-signature': signature } });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    const outcome = await Promise.race([closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000))]);
    if (!outcome) ws.terminate();
    expect(outcome).toEqual({ code: 1008, reason: 'start_timeout' });
  });
});
