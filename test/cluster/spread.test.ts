// slow: real services (three node processes, PostgreSQL, Redis)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDigits, syntheticSpeech, type SimulatedCall } from '../../src/simulator/index.js';
import { dialVia, metric, pause, streamNode } from './calls.js';
import { startCluster, type TestCluster } from './harness.js';

const CALLS = 6;

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, label: 'spread' });
});

afterAll(() => cluster?.close());

describe('calls spread over three node processes', () => {
  it('webhooks to different nodes pin calls to the least-loaded node: stream URLs name it for both legs, every node carries calls, audio flows', async () => {
    const calls: SimulatedCall[] = [];
    for (let i = 0; i < CALLS; i++) {
      // The load balancer sends each webhook to another node; the node it lands on need not carry the call.
      calls.push(await dialVia(cluster, cluster.nodes[i % cluster.nodes.length]));
      // Loads travel with the heartbeat: let one go by, as calls arriving over time would.
      await pause(300);
    }
    const carriers = calls.map((call) => streamNode(cluster, call.caller)?.id);
    for (const [i, call] of calls.entries()) expect(streamNode(cluster, call.agent)?.id, 'both legs on one node').toBe(carriers[i]);
    expect(new Set(carriers)).toEqual(new Set(cluster.nodes.map((n) => n.id)));

    const speech = syntheticSpeech(1000, 3);
    await Promise.all(calls.map((call) => Promise.all([call.callerPlays(speech), call.agentPlays(speech)])));
    for (const node of cluster.nodes) expect(await metric(node, 'toneguard_active_calls'), `${node.id} carries calls`).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.agentHeard().length, 'the agent hears the caller').toBeGreaterThan(4000);
      expect(decodeDigits(call.agentHeard()).digits).toBe('');
    }
    await Promise.all(calls.map((call) => call.hangUp()));
  });
});
