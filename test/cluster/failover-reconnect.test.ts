// slow: real services (Redis; two in-process nodes on real sockets, one killed mid-capture)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureView } from '../../src/capture/types.js';
import { createMigratedTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { testRedisPrefix } from '../helpers/redis.js';
import { keypadTones, startTwilioRestStandIn, TEST_AGENT, waitFor, type TwilioRestStandIn } from '../helpers/twilio.js';
import { dialInto, sharedKeys, startNode, waitForAuditRecord, type TestNode } from './failover-fixtures.js';

const SPEED = 4;
const FIELDS = [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }];

let database: TestDatabase;
let standIn: TwilioRestStandIn;
let redis: ReturnType<typeof testRedisPrefix>;
let nodes: TestNode[] = [];

beforeAll(async () => {
  database = await createMigratedTestDatabase('failover');
  standIn = await startTwilioRestStandIn();
});

afterAll(async () => {
  await standIn.close();
  await database.drop();
});

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.server.close().catch(() => undefined)));
  nodes = [];
  await redis.clear();
});

async function cluster(resumeWindowMs?: number) {
  redis = testRedisPrefix('failover');
  const keys = sharedKeys();
  const settings = { prefix: redis.prefix, databaseUrl: database.url, keys, standIn, ...(resumeWindowMs ? { resumeWindowMs } : {}) };
  nodes = [await startNode('node-a', settings), await startNode('node-b', settings)];
  return nodes;
}

/** The node a URL names. */
const nodeOf = (url: string) => nodes.find((node) => url.startsWith(node.server.context.config.cluster.nodeUrl!.replace(/^http/, 'ws')))!;

describe('failover: a node lost mid-capture', () => {
  it('pins both legs to the picked node, then resumes the capture on a live node: completed fields kept, the field in progress keyed again', async () => {
    const [a, b] = await cluster();
    const call = await dialInto(a, [b], standIn);
    const owner = nodeOf(call.streamUrls().caller[0]);
    const survivor = owner === a ? b : a;
    expect(call.streamUrls().agent[0]).toBe(call.streamUrls().caller[0]);
    await waitFor(() => owner.server.context.calls.get(call.callId)?.state === 'bridged');
    expect(survivor.server.context.calls.get(call.callId)?.node).toBe(owner.id);

    const session = owner.server.context.captures.start({ callSid: call.callId, fields: FIELDS, actor: TEST_AGENT });
    await call.callerPlays(keypadTones('4111111111111111#'), SPEED);
    await waitFor(() => session.view().fields[0].state === 'complete');
    await call.callerPlays(keypadTones('12'), SPEED);
    await waitFor(() => session.view().fields[1].digitCount === 2);
    const store = owner.server.context.failover!.store;
    await waitFor(async () => (await store.get(call.callId))?.view.fields[0].state === 'complete');
    const lastSeen = session.view().version;

    await owner.kill();
    await call.streamed(2);
    expect(call.streamUrls().caller.map((url) => nodeOf(url).id)).toEqual([owner.id, survivor.id]);
    expect(call.streamUrls().agent.map((url) => nodeOf(url).id)).toEqual([owner.id, survivor.id]);

    const resumed = await waitFor(() => survivor.server.context.captures.get(session.id));
    await waitFor(() => survivor.server.context.calls.get(call.callId)?.state === 'bridged');
    const view = resumed.view();
    expect(view.resumedAt).toBeDefined();
    expect(view.version).toBeGreaterThan(lastSeen);
    expect(view.fields.map((f) => [f.name, f.state, f.digitCount])).toEqual([
      ['card_number', 'complete', 16],
      ['expiry', 'capturing', 0],
      ['cvv', 'pending', 0],
    ]);

    await call.callerPlays(keypadTones('1230737'), SPEED);
    const final = await waitFor(() => (resumed.view().state === 'complete' ? resumed.view() : undefined));
    expect(final.result?.last4).toBe('1111');
    expect(final.resumedAt).toBeDefined();
    const info = await survivor.server.context.vault.info(final.result!.token);
    expect(info).toMatchObject({ last4: '1111' });
    await waitFor(async () => (await survivor.server.context.failover!.store.get(call.callId)) === undefined);
    await waitForAuditRecord(database.url, (r) => r.action === 'capture.resumed');
    await call.hangUp();
  }, 60_000);

  it('fails the capture with node_lost when the call cannot resume (it ended before reconnecting)', async () => {
    const [a, b] = await cluster();
    const call = await dialInto(a, [b], standIn, false);
    const owner = nodeOf(call.streamUrls().caller[0]);
    const survivor = owner === a ? b : a;
    await waitFor(() => owner.server.context.calls.get(call.callId)?.state === 'bridged');
    const session = owner.server.context.captures.start({ callSid: call.callId, fields: FIELDS, actor: TEST_AGENT });
    await call.callerPlays(keypadTones('4111111111111111#'), SPEED);
    const store = owner.server.context.failover!.store;
    await waitFor(async () => (await store.get(call.callId))?.view.fields[0].state === 'complete');
    const views: CaptureView[] = [];
    survivor.server.context.captures.onView((view) => views.push(view));

    await owner.kill();
    await call.hangUp();
    const lost = await waitFor(() => views.find((view) => view.id === session.id && view.state === 'failed'));
    expect(lost.error?.code).toBe('node_lost');
    await waitFor(async () => (await survivor.server.context.failover!.store.get(call.callId)) === undefined);
  }, 60_000);

  it('fails the capture with node_lost once the resume window passes with no reconnect, though the call is still up', async () => {
    const [a, b] = await cluster(1_000);
    const call = await dialInto(a, [b], standIn, false);
    const owner = nodeOf(call.streamUrls().caller[0]);
    const survivor = owner === a ? b : a;
    await waitFor(() => owner.server.context.calls.get(call.callId)?.state === 'bridged');
    const session = owner.server.context.captures.start({ callSid: call.callId, fields: FIELDS, actor: TEST_AGENT });
    const store = owner.server.context.failover!.store;
    await waitFor(async () => (await store.get(call.callId)) !== undefined);
    const views: CaptureView[] = [];
    survivor.server.context.captures.onView((view) => views.push(view));

    await owner.kill();
    const lost = await waitFor(() => views.find((view) => view.id === session.id && view.state === 'failed'));
    expect(lost.error?.code).toBe('node_lost');
    expect(survivor.server.context.calls.get(call.callId)?.state).not.toBe('ended');
    await waitForAuditRecord(database.url, (r) => r.action === 'capture.failed' && r.details?.code === 'node_lost');
  }, 60_000);
});
