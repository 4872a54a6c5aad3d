// slow: real services (PostgreSQL, Redis; two in-process nodes per provider)
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Config } from '../../src/config/index.js';
import { getVonageAnswer, websocketOf } from '../../src/simulator/vonage/webhooks.js';
import { parseStreamXml, plivoNonce, postPlivoWebhook } from '../../src/simulator/plivo/webhooks.js';
import { parseListen, postJambonzWebhook } from '../../src/simulator/jambonz/webhooks.js';
import { randomCallControlId, type TelnyxRestStandIn } from '../../src/simulator/telnyx/rest-stand-in.js';
import { postTelnyxWebhook, telnyxEvent } from '../../src/simulator/telnyx/webhooks.js';
import { TelnyxStreamClient, type TelnyxStreamingStart } from '../../src/simulator/telnyx/stream-client.js';
import { syntheticSpeech } from '../../src/simulator/audio.js';
import { streamAudio } from '../../src/simulator/pacing.js';
import { TELNYX_WEBHOOK_PATH } from '../../src/telephony/telnyx/index.js';
import { PLIVO_PATHS } from '../../src/telephony/plivo/routes.js';
import { JAMBONZ_PATHS } from '../../src/telephony/jambonz/routes.js';
import { NONCE_HEADER, plivoV3Signature, SIGNATURE_HEADER } from '../../src/telephony/plivo/signature.js';
import { createMigratedTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startJambonzTestBed, startPlivoTestBed, TEST_JAMBONZ_ACCOUNT } from '../helpers/providers.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { startSignalWireTestBed, TEST_SIGNALWIRE_PROJECT } from '../helpers/signalwire.js';
import { startTelnyxTestBed } from '../helpers/telnyx.js';
import type { TestServer } from '../helpers/server.js';
import { parseStreamTwiml, postTwilioWebhook, signTwilio, waitFor } from '../helpers/twilio.js';
import { startVonageTestBed } from '../helpers/vonage.js';
import { freePort } from '../../src/simulator/free-port.js';
import { clusterNodeConfig, sharedKeys } from './failover-fixtures.js';

/**
 * Each provider on a two-node cluster: the inbound webhook reaches node A, the agent's reaches
 * node B (as a load balancer may send them), and both legs' stream URLs name the one node the
 * call is pinned to. Where the upgrade check depends on the node (tokens, signatures over the
 * URL), the platform's upgrade to the pinned node with what the other node issued is admitted.
 */

let database: TestDatabase;
const keys = sharedKeys();

beforeAll(async () => {
  database = await createMigratedTestDatabase('providers');
});

afterAll(async () => {
  await database.drop();
});

interface Bed {
  server: TestServer;
  close(): Promise<void>;
}

interface Pair<B extends Bed> {
  a: B;
  b: B;
  close(): Promise<void>;
}

/** Two nodes of one cluster, each a provider bed: `shared` gives node B node A's provider settings (one account, one stand-in). */
async function clusterPair<B extends Bed>(name: string, start: (overrides: Record<string, unknown>) => Promise<B>, shared: (a: Config) => Record<string, unknown>): Promise<Pair<B>> {
  const redis = testRedisPrefix(`providers-${name}`);
  const node = async (id: string, extra: Record<string, unknown>) => {
    const port = await freePort();
    return start({ ...extra, ...clusterNodeConfig(id, port, { keys, databaseUrl: database.url, prefix: redis.prefix }) });
  };
  const a = await node(`${name}-a`, {});
  const b = await node(`${name}-b`, shared(a.server.context.config));
  await waitFor(async () => (await a.server.context.cluster!.nodes.live()).length === 2);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await redis.clear();
    },
  };
}

/** The node a call is pinned to, and its media socket URL for `provider`. */
function pinnedOf(pair: Pair<Bed>, callId: string) {
  const id = pair.a.server.context.calls.get(callId)?.node;
  const node = [pair.a, pair.b].find((bed) => bed.server.context.config.cluster.nodeId === id);
  if (!node) throw new Error(`call ${callId} is pinned to no node of the pair`);
  const other = node === pair.a ? pair.b : pair.a;
  const wsBase = node.server.context.config.cluster.nodeUrl!.replace(/^http/, 'ws');
  return { node, other, mediaUrl: (provider: string) => `${wsBase}/media/${provider}` };
}

/** Resolves when the upgrade is admitted (then closes the socket); rejects with the refusal's status. */
function upgradeAdmitted(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.close();
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('Telnyx on two nodes', () => {
  let pair: Pair<Awaited<ReturnType<typeof startTelnyxTestBed>>>;
  let standIn: TelnyxRestStandIn;
  beforeAll(async () => {
    pair = await clusterPair('telnyx', startTelnyxTestBed, (a) => ({ telnyx: a.telnyx }));
    standIn = pair.a.standIn;
  });
  afterAll(() => pair.close());

  it("starts both legs' streams on the pinned node, whichever node gets call.answered; the pinned node admits their tokens and bridges them", async () => {
    const callId = randomCallControlId();
    const targetOf = (bed: Bed) => ({ baseUrl: bed.server.url, signer: pair.a.signer });
    expect((await postTelnyxWebhook(targetOf(pair.a), TELNYX_WEBHOOK_PATH, telnyxEvent('call.initiated', { call_control_id: callId, from: '+15005550006', to: '+15005550001', direction: 'incoming' }))).status).toBe(200);
    const answer = await standIn.waitFor((c) => c.action === 'answer' && c.callControlId === callId);
    const pinned = pinnedOf(pair, callId);

    // The caller's call.answered reaches the node that did not answer it: the answer's echoed client_state carries the stream.
    await postTelnyxWebhook(targetOf(pair.b), TELNYX_WEBHOOK_PATH, telnyxEvent('call.answered', { call_control_id: callId, direction: 'incoming', client_state: answer.body.client_state as string }));
    const callerStream = await standIn.waitFor((c) => c.action === 'streaming_start' && c.callControlId === callId);
    expect(callerStream.body.stream_url).toBe(`${pinned.mediaUrl('telnyx')}?call=${encodeURIComponent(callId)}`);

    const dial = await standIn.waitFor((c) => c.action === 'dial' && Buffer.from(String(c.body.client_state), 'base64').toString().includes(JSON.stringify(callId)));
    await postTelnyxWebhook(targetOf(pair.b), TELNYX_WEBHOOK_PATH, telnyxEvent('call.answered', { call_control_id: dial.callControlId, direction: 'outgoing', client_state: dial.body.client_state as string }));
    const agentStream = await standIn.waitFor((c) => c.action === 'streaming_start' && c.callControlId === dial.callControlId);
    expect(agentStream.body.stream_url).toBe(`${pinned.mediaUrl('telnyx')}?call=${encodeURIComponent(dial.callControlId)}`);

    // Node B issued the stream tokens; the pinned node (whichever it is) admits them, bridges the legs, and audio flows.
    const open = (callControlId: string, command: typeof callerStream) =>
      TelnyxStreamClient.open(pinned.node.server.context.config.cluster.nodeUrl!, { callControlId, command: command.body as unknown as TelnyxStreamingStart });
    const [caller, agent] = [await open(callId, callerStream), await open(dial.callControlId, agentStream)];
    try {
      await waitFor(() => pinned.node.server.context.calls.get(callId)?.state === 'bridged');
      await streamAudio(caller, syntheticSpeech(1_000), 4);
      await waitFor(() => agent.receivedAudio().length >= 4_000);
      expect(caller.open && agent.open).toBe(true);
    } finally {
      await Promise.all([caller.stop(), agent.stop()]);
    }
  });
});

describe('Vonage on two nodes', () => {
  let pair: Pair<Awaited<ReturnType<typeof startVonageTestBed>>>;
  beforeAll(async () => {
    pair = await clusterPair('vonage', startVonageTestBed, (a) => ({ vonage: a.vonage }));
  });
  afterAll(() => pair.close());

  it("connects both legs' websockets to the pinned node", async () => {
    const uuid = randomUUID();
    const targetOf = (bed: Bed) => ({ baseUrl: bed.server.url, signer: pair.a.signer });
    const inbound = await getVonageAnswer(targetOf(pair.a), '/vonage/voice/answer', { from: '447700900000', to: '447700900001', uuid, conversation_uuid: `CON-${randomUUID()}` });
    const pinned = pinnedOf(pair, uuid);
    expect(websocketOf(inbound.ncco)?.uri).toBe(pinned.mediaUrl('vonage'));

    const created = await pair.a.standIn.waitFor((r) => r.method === 'POST' && Array.isArray(r.body.answer_url) && String(r.body.answer_url[0]).endsWith(`call=${uuid}`));
    const agent = await getVonageAnswer(targetOf(pair.b), String((created.body.answer_url as string[])[0]), { from: '447700900001', to: 'agent', uuid: created.uuid, conversation_uuid: `CON-${randomUUID()}` });
    expect(websocketOf(agent.ncco)?.uri).toBe(pinned.mediaUrl('vonage'));
  });
});

describe('Plivo on two nodes', () => {
  let pair: Pair<Awaited<ReturnType<typeof startPlivoTestBed>>>;
  beforeAll(async () => {
    pair = await clusterPair('plivo', startPlivoTestBed, (a) => ({ plivo: a.plivo }));
  });
  afterAll(() => pair.close());

  it("streams both legs to the pinned node, which admits an upgrade signed over its own URL", async () => {
    const callUuid = randomUUID();
    const targetOf = (bed: Bed) => ({ baseUrl: bed.server.url, publicUrl: pair.a.target.publicUrl, authToken: pair.a.target.authToken });
    const inbound = await postPlivoWebhook(targetOf(pair.a), PLIVO_PATHS.inbound, { CallUUID: callUuid, From: '+15005550006', To: '+15005550001', Direction: 'inbound', CallStatus: 'ringing' });
    const pinned = pinnedOf(pair, callUuid);
    const caller = parseStreamXml(inbound.body)!;
    expect(caller.url.split('?')[0]).toBe(pinned.mediaUrl('plivo'));

    const placed = await pair.a.standIn.waitFor((r) => r.method === 'POST' && String((r.body as { answer_url?: string } | undefined)?.answer_url).endsWith(`call=${callUuid}`));
    const answerUrl = String((placed.request.body as { answer_url: string }).answer_url);
    const requestUuid = (placed.answer.body as { request_uuid: string }).request_uuid;
    const agentAnswer = await postPlivoWebhook(targetOf(pair.b), answerUrl, { CallUUID: randomUUID(), RequestUUID: requestUuid, ALegRequestUUID: requestUuid, Direction: 'outbound', CallStatus: 'in-progress' });
    expect(parseStreamXml(agentAnswer.body)!.url.split('?')[0]).toBe(pinned.mediaUrl('plivo'));

    // An upgrade without the socket token, signed (V3) over the URL Plivo connected to: the pinned node's own.
    const url = pinned.mediaUrl('plivo');
    const nonce = plivoNonce();
    await upgradeAdmitted(url, { [SIGNATURE_HEADER]: plivoV3Signature(pair.a.target.authToken, 'GET', url, {}, nonce), [NONCE_HEADER]: nonce });
  });
});

describe('jambonz on two nodes', () => {
  let pair: Pair<Awaited<ReturnType<typeof startJambonzTestBed>>>;
  beforeAll(async () => {
    pair = await clusterPair('jambonz', startJambonzTestBed, (a) => ({ jambonz: a.jambonz }));
  });
  afterAll(() => pair.close());

  it("listens on the pinned node for both legs", async () => {
    const callSid = randomUUID();
    const targetOf = (bed: Bed) => ({ baseUrl: bed.server.url, publicUrl: pair.a.target.publicUrl, webhookSecret: pair.a.target.webhookSecret });
    const inbound = await postJambonzWebhook(targetOf(pair.a), JAMBONZ_PATHS.inbound, { call_sid: callSid, account_sid: TEST_JAMBONZ_ACCOUNT, direction: 'inbound', from: '+15005550006', to: '+15005550001', call_status: 'trying' });
    const pinned = pinnedOf(pair, callSid);
    expect(parseListen(inbound.body)?.url).toBe(pinned.mediaUrl('jambonz'));

    const placed = await pair.a.standIn.waitFor((r) => r.method === 'POST' && String((r.body as { call_hook?: { url?: string } } | undefined)?.call_hook?.url).endsWith(`call=${callSid}`));
    const hook = String((placed.request.body as { call_hook: { url: string } }).call_hook.url);
    const agentSid = (placed.answer.body as { sid: string }).sid;
    const agent = await postJambonzWebhook(targetOf(pair.b), hook, { call_sid: agentSid, account_sid: TEST_JAMBONZ_ACCOUNT, direction: 'outbound', from: '+15005550001', to: 'jz-agent', call_status: 'in-progress' });
    expect(parseListen(agent.body)?.url).toBe(pinned.mediaUrl('jambonz'));
  });
});

describe('SignalWire on two nodes', () => {
  let pair: Pair<Awaited<ReturnType<typeof startSignalWireTestBed>>>;
  beforeAll(async () => {
    pair = await clusterPair('signalwire', startSignalWireTestBed, (a) => ({ signalwire: a.signalwire }));
  });
  afterAll(() => pair.close());

  it("streams both legs to the pinned node, which admits the bearer token the other node wrote", async () => {
    const callSid = randomUUID();
    const signing = { signatureHeader: 'x-signalwire-signature', sign: signTwilio };
    const targetOf = (bed: Bed) => ({ ...pair.a.target, baseUrl: bed.server.url });
    const inbound = await postTwilioWebhook(targetOf(pair.a), '/signalwire/voice/inbound', { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: callSid, From: '+15005550006', To: '+15005550001' }, undefined, signing);
    const pinned = pinnedOf(pair, callSid);
    const caller = parseStreamTwiml(inbound.body)!;
    expect(caller.url).toBe(pinned.mediaUrl('signalwire'));

    const { request, callSid: agentSid } = await pair.a.standIn.waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`));
    const agentAnswer = await postTwilioWebhook(targetOf(pair.b), request.params.Url, { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: agentSid }, undefined, signing);
    const agent = parseStreamTwiml(agentAnswer.body)!;
    expect(agent.url).toBe(pinned.mediaUrl('signalwire'));

    // The document the other node wrote carries a token the pinned node verifies.
    const fromOther = pinned.node === pair.a ? agent : caller;
    await upgradeAdmitted(fromOther.url, { authorization: `Bearer ${fromOther.attributes.authBearerToken}` });
  });
});
