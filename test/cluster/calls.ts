import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { EVENTS_PATH, EVENTS_SUBPROTOCOL } from '../../src/agent/index.js';
import type { AgentEvent } from '../../src/agent/contract.js';
import type { CaptureView } from '../../src/capture/types.js';
import { SimulatedCall, type TwilioStreamClient } from '../../src/simulator/index.js';
import type { Puller } from '../helpers/detokenize.js';
import { processorKeyPairs } from '../processors/keys.js';
import { CLUSTER_ACCOUNT_SID, CLUSTER_PROCESSOR, type ClusterNode, type TestCluster } from './harness.js';

/**
 * A call whose webhooks Twilio sends to `node` first (as a load balancer would have, to any node),
 * and to the other nodes when it does not answer.
 */
export function dialVia(cluster: TestCluster, node: ClusterNode): Promise<SimulatedCall> {
  const fallbackBaseUrls = cluster.nodes.filter((n) => n !== node).map((n) => n.url);
  return SimulatedCall.dial({ target: cluster.target(node), fallbackBaseUrls, accountSid: CLUSTER_ACCOUNT_SID, standIn: cluster.standIn });
}

/** The node a leg's media stream is connected to now (its stream URL named it). */
export function streamNode(cluster: TestCluster, stream: Pick<TwilioStreamClient, 'ws'>): ClusterNode | undefined {
  const port = Number(new URL(stream.ws.url).port);
  return cluster.nodes.find((n) => n.port === port);
}

/** One sample of a node's Prometheus metric (summed over its labels), or undefined when the node does not answer. */
export async function metric(node: ClusterNode, name: string): Promise<number | undefined> {
  const text = await fetch(`${node.url}/metrics`).then(
    (r) => r.text(),
    () => undefined,
  );
  if (text === undefined) return undefined;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The agent API on one node. */
export function agentApi(node: ClusterNode, token: string) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${node.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as T };
  };
  return {
    async startCapture(callSid: string, fields: string[]): Promise<CaptureView> {
      const { status, body } = await call<{ view?: CaptureView; capture?: CaptureView; error?: { code: string } }>('POST', `/v1/calls/${callSid}/captures`, { fields });
      const view = body.view ?? body.capture;
      if (status >= 300 || !view) throw new Error(`capture start on ${node.id} answered ${status} ${body.error?.code ?? ''}`);
      return view;
    },
    async view(captureId: string): Promise<CaptureView> {
      const { status, body } = await call<{ view?: CaptureView; capture?: CaptureView }>('GET', `/v1/captures/${captureId}`);
      const view = body.view ?? body.capture;
      if (status !== 200 || !view) throw new Error(`capture view on ${node.id} answered ${status}`);
      return view;
    },
  };
}

/** An agent's events socket on one node: every event it received, in order. */
export interface EventsSocket {
  events: AgentEvent[];
  captureViews(captureId: string): CaptureView[];
  close(): void;
}

export async function openEvents(node: ClusterNode, token: string): Promise<EventsSocket> {
  const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}${EVENTS_PATH}`, [EVENTS_SUBPROTOCOL, `bearer.${token}`]);
  const events: AgentEvent[] = [];
  ws.on('message', (data) => events.push(JSON.parse(data.toString()) as AgentEvent));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', () => {
      if (events.some((e) => e.type === 'ready')) resolve();
    });
  });
  return {
    events,
    captureViews: (captureId) => events.flatMap((e) => (e.type === 'capture' && e.view.id === captureId ? [e.view] : [])),
    close: () => ws.terminate(),
  };
}

/** Enrolls the cluster's `vault` processor (once, for every node: the registry is shared) and returns its keys. */
export async function enrollClusterProcessor(cluster: TestCluster): Promise<Puller> {
  const keys = await processorKeyPairs(CLUSTER_PROCESSOR);
  const file = join(mkdtempSync(join(tmpdir(), 'toneguard-jwks-')), 'jwks.json');
  writeFileSync(file, JSON.stringify(keys.jwks), { mode: 0o600 });
  const enrolled = await cluster.cli(['processors', 'enroll', CLUSTER_PROCESSOR, '--jwk', file]);
  if (enrolled.status !== 0) throw new Error(`processors enroll failed: ${enrolled.stderr}`);
  return { name: CLUSTER_PROCESSOR, keys };
}

/** Sleeps without holding the event loop's attention. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
