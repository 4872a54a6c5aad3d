// slow: real services (Redis; two in-process nodes)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/server.js';
import { parseStreamTwiml, postTwilioWebhook, randomSid, startTwilioRestStandIn, waitFor, type TwilioRestStandIn, type TwilioTarget } from '../helpers/twilio.js';
import { sharedKeys, startNode, type TestNode } from './failover-fixtures.js';

let database: TestDatabase;
let standIn: TwilioRestStandIn;
const redis = testRedisPrefix('pinning');
let a: TestNode;
let b: TestNode;

beforeAll(async () => {
  database = await createMigratedTestDatabase('pinning');
  standIn = await startTwilioRestStandIn();
  const settings = { prefix: redis.prefix, databaseUrl: database.url, keys: sharedKeys(), standIn };
  [a, b] = [await startNode('node-a', settings), await startNode('node-b', settings)];
  await waitFor(async () => (await a.server.context.cluster!.nodes.live()).length === 2);
});

afterAll(async () => {
  await Promise.all([a.server.close(), b.server.close()]);
  await standIn.close();
  await redis.clear();
  await database.drop();
});

const target = (node: TestNode): TwilioTarget => ({ baseUrl: node.server.url, publicUrl: node.server.context.config.publicUrl, authToken: TEST_AUTH_TOKEN });
const mediaUrlOf = (id: string) => `${[a, b].find((node) => node.id === id)!.server.context.config.cluster.nodeUrl!.replace(/^http/, 'ws')}/media/twilio`;
const inbound = (node: TestNode, callSid: string) => postTwilioWebhook(target(node), '/twilio/voice/inbound', { AccountSid: TEST_ACCOUNT_SID, CallSid: callSid, From: '+15005550006', To: '+15005550001' });

describe('calls pinned to a media node', () => {
  it('streams both legs to the node it picked, whichever node takes each webhook, with a signed reconnect action per leg', async () => {
    const callSid = randomSid('CA');
    const answer = await inbound(a, callSid);
    const caller = parseStreamTwiml(answer.body)!;
    const pinned = a.server.context.calls.get(callSid)!.node!;
    expect(await a.server.context.cluster!.placement.nodeOf(callSid)).toBe(pinned);
    expect(caller.url).toBe(mediaUrlOf(pinned));
    expect(new URL(caller.action!).searchParams.get('node')).toBe(pinned);
    expect(caller.action).toBe(`https://toneguard.test/twilio/voice/reconnect?call=${callSid}&leg=caller&node=${pinned}`);

    // The agent's webhook reaches the other node, which never placed the agent call: it finds it in the shared call record.
    const { request, callSid: agentCallSid } = await standIn.waitForCall((r) => r.params.Url?.endsWith(`call=${callSid}`));
    const agentAnswer = await postTwilioWebhook(target(b), request.params.Url, { AccountSid: TEST_ACCOUNT_SID, CallSid: agentCallSid });
    const agent = parseStreamTwiml(agentAnswer.body)!;
    expect(agent.url).toBe(mediaUrlOf(pinned));
    expect(agent.parameters).toMatchObject({ leg: 'agent' });
    expect(agent.action).toBe(`https://toneguard.test/twilio/voice/reconnect?call=${callSid}&leg=agent&node=${pinned}`);

    // A stream that ends while its node still answers was the call's end: the leg hangs up, and the call stays where it is.
    const reconnect = await postTwilioWebhook(target(b), caller.action!, { AccountSid: TEST_ACCOUNT_SID, CallSid: callSid });
    expect(reconnect.body).toContain('<Hangup/>');
    expect(await b.server.context.cluster!.placement.nodeOf(callSid)).toBe(pinned);
  });

  it('answers 503 no_live_node when no node takes new calls, so the platform uses its fallback', async () => {
    for (const node of [a, b]) node.server.context.cluster!.nodes.setAccepting(false);
    try {
      await waitFor(async () => (await a.server.context.cluster!.nodes.pick()) === undefined);
      const answer = await inbound(a, randomSid('CA'));
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body).error.code).toBe('no_live_node');
    } finally {
      for (const node of [a, b]) node.server.context.cluster!.nodes.setAccepting(true);
    }
  });
});
