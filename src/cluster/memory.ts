import type { CallPlacement, NodeBus, NodeDirectory, NodeInfo } from './ports.js';
import { CommandHandlers, nodeUnreachable, TopicListeners } from './handlers.js';

/**
 * Single-node implementations of the cluster ports (the default and the demo): the one node is
 * the whole cluster, commands to it run in process and broadcasts reach its own listeners.
 */
export class MemoryNodeBus implements NodeBus {
  private readonly handlers = new CommandHandlers();
  private readonly topics = new TopicListeners(() => undefined);

  constructor(private readonly selfId: string) {}

  async request<T>(nodeId: string, command: string, payload: unknown): Promise<T> {
    if (nodeId !== this.selfId) throw nodeUnreachable(nodeId, command);
    return (await this.handlers.run(command, structuredClone(payload))) as T;
  }

  handle(command: string, handler: (payload: unknown) => Promise<unknown>): void {
    this.handlers.handle(command, handler);
  }

  publish(topic: string, message: unknown): void {
    this.topics.deliver(topic, structuredClone(message));
  }

  subscribe(topic: string, listener: (message: unknown) => void): () => void {
    return this.topics.add(topic, listener);
  }

  async close(): Promise<void> {}
}

export class MemoryNodeDirectory implements NodeDirectory {
  private calls = 0;
  private accepting = true;

  constructor(
    readonly self: Pick<NodeInfo, 'id' | 'url'>,
    private readonly now: () => number = Date.now,
  ) {}

  private info(): NodeInfo {
    return { ...this.self, calls: this.calls, accepting: this.accepting, seenAt: this.now() };
  }

  async live(): Promise<NodeInfo[]> {
    return [this.info()];
  }

  async pick(): Promise<NodeInfo | undefined> {
    return this.accepting ? this.info() : undefined;
  }

  async get(id: string): Promise<NodeInfo | undefined> {
    return id === this.self.id ? this.info() : undefined;
  }

  async probe(id: string): Promise<boolean> {
    return id === this.self.id;
  }

  reportCalls(calls: number): void {
    this.calls = calls;
  }

  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  async close(): Promise<void> {}
}

export class MemoryCallPlacement implements CallPlacement {
  private readonly nodes = new Map<string, string>();

  async nodeOf(callId: string): Promise<string | undefined> {
    return this.nodes.get(callId);
  }

  async move(callId: string, expected: string | undefined, to: string): Promise<string> {
    const current = this.nodes.get(callId);
    if (current !== undefined && current !== expected) return current;
    this.nodes.set(callId, to);
    return to;
  }
}
