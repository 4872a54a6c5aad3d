import type { CallRegistry } from '../state/calls.js';
import type { MediaNode, MediaPinning, ReconnectDecision } from '../telephony/call-flow.js';
import type { CallPlacement, NodeDirectory, NodeInfo } from './ports.js';

export interface ClusterPinningDeps {
  directory: NodeDirectory;
  placement: CallPlacement;
  calls: Pick<CallRegistry, 'update'>;
  /** How long a node may take to answer `probe` before it counts as dead. */
  probeTimeoutMs: number;
}

const mediaNode = (node: Pick<NodeInfo, 'id' | 'url'>): MediaNode => ({ id: node.id, url: node.url });

/**
 * Cluster mode's media placement: a new call goes to the live node with the fewest calls, its agent
 * leg follows it, and a stream cut by a node failure moves the call, atomically, to a live node.
 * The pin lives in `CallPlacement`; `CallRecord.node` mirrors it for the views and the other nodes.
 */
export function createClusterPinning(deps: ClusterPinningDeps): MediaPinning {
  const { directory, placement } = deps;

  const pinTo = async (callId: string, expected: string | undefined, candidate: NodeInfo): Promise<MediaNode | undefined> => {
    const winner = await placement.move(callId, expected, candidate.id);
    if (winner !== candidate.id) return liveNode(winner);
    deps.calls.update(callId, { node: winner });
    return mediaNode(candidate);
  };

  const liveNode = async (id: string | undefined): Promise<MediaNode | undefined> => {
    const node = id === undefined ? undefined : await directory.get(id);
    return node ? mediaNode(node) : undefined;
  };

  /** Like `pick`, but never the node just found dead (its heartbeat key may outlive it by `nodeTtlMs`). */
  const pickOtherThan = async (dead: string): Promise<NodeInfo | undefined> => {
    const candidates = (await directory.live()).filter((node) => node.accepting && node.id !== dead);
    return candidates.sort((a, b) => a.calls - b.calls)[0];
  };

  return {
    reconnects: true,

    async pinNew(callId) {
      // Redis unreachable: no node can be picked, so the webhook is refused with 503 (no_live_node) for the platform's fallback, not 500.
      const picked = await directory.pick().catch(() => undefined);
      return picked ? pinTo(callId, undefined, picked) : undefined;
    },

    pinnedNode: async (callId) => liveNode(await placement.nodeOf(callId)),

    async reconnect(callId, streamNode): Promise<ReconnectDecision> {
      const pinned = await placement.nodeOf(callId);
      // The other leg moved the call already: follow it.
      if (pinned !== undefined && pinned !== streamNode) {
        const node = await liveNode(pinned);
        if (node) return { kind: 'stream', node };
      }
      // The heartbeat outlives a SIGKILL: only the node itself saying it is alive keeps the call there.
      if (pinned === streamNode && (await directory.probe(streamNode, deps.probeTimeoutMs))) return { kind: 'hangup', reason: 'node_alive' };
      const picked = await pickOtherThan(streamNode);
      if (!picked) return { kind: 'hangup', reason: 'no_live_node' };
      const moved = await pinTo(callId, pinned, picked);
      return moved ? { kind: 'stream', node: moved } : { kind: 'hangup', reason: 'no_live_node' };
    },
  };
}
