/**
 * The shared-state ports of cluster mode. Each has a single-node implementation (memory, the
 * default and the demo) and a Redis one; the composition root picks. None carries audio: frames
 * never leave the node their call is pinned to.
 */

/** A node as the cluster sees it. */
export interface NodeInfo {
  id: string;
  /** Its own public URL (`TONEGUARD_NODE_URL`): the stream URLs of the calls pinned to it name it. */
  url: string;
  /** Live media calls it carries now. */
  calls: number;
  /** False while it takes no new calls (lost Redis, shutting down). */
  accepting: boolean;
  /** Epoch ms of its last heartbeat. */
  seenAt: number;
}

export interface NodeDirectory {
  readonly self: Pick<NodeInfo, 'id' | 'url'>;
  /** Nodes heard from within `cluster.nodeTtlMs`. */
  live(): Promise<NodeInfo[]>;
  /** The live, accepting node with the fewest calls; undefined when there is none. */
  pick(): Promise<NodeInfo | undefined>;
  /** The node, if live. */
  get(id: string): Promise<NodeInfo | undefined>;
  /**
   * Asks the node itself, over the bus, whether it is alive; false when it does not answer within
   * `timeoutMs`. Stronger than its heartbeat (which outlives a SIGKILL by up to `nodeTtlMs`): it is
   * asked before a call is moved away from it.
   */
  probe(id: string, timeoutMs: number): Promise<boolean>;
  /** This node's load, reported with the next heartbeat. */
  reportCalls(calls: number): void;
  setAccepting(accepting: boolean): void;
  close(): Promise<void>;
}

/** Commands between nodes and broadcasts to all of them. Payloads are JSON and never hold a captured value. */
export interface NodeBus {
  /**
   * Sends `command` to `nodeId` and waits for its answer. Rejects with the handler's
   * ToneguardError (same code and status), or `node_unreachable` (503) after `timeoutMs`.
   */
  request<T>(nodeId: string, command: string, payload: unknown, timeoutMs?: number): Promise<T>;
  /** Serves `command` on this node; a thrown ToneguardError travels back to the requester. */
  handle(command: string, handler: (payload: unknown) => Promise<unknown>): void;
  /** To every node, this one included. */
  publish(topic: string, message: unknown): void;
  subscribe(topic: string, listener: (message: unknown) => void): () => void;
  close(): Promise<void>;
}

/** Where a call's media is pinned, changed atomically so that two nodes never both take a call over. */
export interface CallPlacement {
  /** The node the call is pinned to, if any. */
  nodeOf(callId: string): Promise<string | undefined>;
  /**
   * Pins the call to `to` if it is pinned to `expected` (undefined: not pinned yet); returns the
   * node it is pinned to afterwards, which is `to` only if this call won. A call not pinned at all
   * is pinned to `to` whatever `expected` says (a single winner all the same).
   */
  move(callId: string, expected: string | undefined, to: string): Promise<string>;
}
