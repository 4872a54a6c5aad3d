import { randomUUID } from 'node:crypto';
import type { Logger } from '../audit/logger.js';
import { ToneguardError } from '../errors.js';
import type { NodeBus } from './ports.js';
import { CommandHandlers, fromWireError, nodeUnreachable, toWireError, TopicListeners, type WireError } from './handlers.js';
import { clusterUnavailable, type RedisConnections } from './redis.js';

interface CommandMessage {
  id: string;
  command: string;
  payload: unknown;
  replyTo: string;
}

type ReplyMessage = { id: string; result: unknown } | { id: string; error: WireError };

interface TopicMessage {
  /** The publishing bus instance, so that it does not deliver its own message twice. */
  from: string;
  message: unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The node bus over Redis pub/sub. Each node listens on its own command channel; a requester
 * listens on a reply channel of its own and matches answers by correlation id. A command to a
 * node nobody listens for fails at once (PUBLISH reaches no subscriber), one to a node that stops
 * answering fails after the timeout: both `node_unreachable` (503). Broadcasts reach this node's
 * own listeners in process, at once, even while Redis is down.
 */
export class RedisNodeBus implements NodeBus {
  private readonly instance = randomUUID();
  private readonly handlers = new CommandHandlers();
  private readonly topics: TopicListeners;
  private readonly pending = new Map<string, Pending>();
  private readonly commandChannel: string;
  private readonly replyChannel: string;
  private readonly unsubscribeMessages: () => void;
  private closed = false;

  private constructor(
    private readonly redis: RedisConnections,
    private readonly selfId: string,
    private readonly defaultTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.commandChannel = redis.name(`bus:cmd:${selfId}`);
    this.replyChannel = redis.name(`bus:reply:${selfId}:${this.instance}`);
    this.topics = new TopicListeners((topic, err) => logger.error({ topic, err: { message: (err as Error).message } }, 'bus topic listener failed'));
    const onMessage = (channel: string, raw: string) => this.dispatch(channel, raw);
    redis.subscriber.on('message', onMessage);
    this.unsubscribeMessages = () => redis.subscriber.off('message', onMessage);
  }

  static async open(redis: RedisConnections, selfId: string, defaultTimeoutMs: number, logger: Logger): Promise<RedisNodeBus> {
    const bus = new RedisNodeBus(redis, selfId, defaultTimeoutMs, logger);
    await redis.subscriber.subscribe(bus.commandChannel, bus.replyChannel);
    return bus;
  }

  async request<T>(nodeId: string, command: string, payload: unknown, timeoutMs = this.defaultTimeoutMs): Promise<T> {
    if (this.closed) throw new ToneguardError('bus_closed', 'the node bus is closed', 503);
    if (nodeId === this.selfId) return (await this.handlers.run(command, structuredClone(payload))) as T;
    const id = randomUUID();
    const message: CommandMessage = { id, command, payload, replyTo: this.replyChannel };
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(nodeUnreachable(nodeId, command));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.redis.command.publish(this.redis.name(`bus:cmd:${nodeId}`), JSON.stringify(message));
    } catch (err) {
      this.settle(id)?.reject(clusterUnavailable(err));
      return answer as Promise<T>;
    }
    if (receivers === 0) this.settle(id)?.reject(nodeUnreachable(nodeId, command));
    return answer as Promise<T>;
  }

  handle(command: string, handler: (payload: unknown) => Promise<unknown>): void {
    this.handlers.handle(command, handler);
  }

  publish(topic: string, message: unknown): void {
    this.topics.deliver(topic, structuredClone(message));
    const envelope: TopicMessage = { from: this.instance, message };
    this.redis.command.publish(this.topicChannel(topic), JSON.stringify(envelope)).catch((err: unknown) => {
      this.logger.warn({ topic, err: { message: (err as Error).message } }, 'broadcast not sent: Redis unreachable');
    });
  }

  subscribe(topic: string, listener: (message: unknown) => void): () => void {
    if (this.topics.count(topic) === 0) this.listen(this.topicChannel(topic));
    const remove = this.topics.add(topic, listener);
    return () => {
      remove();
      if (this.topics.count(topic) === 0 && !this.closed) this.redis.subscriber.unsubscribe(this.topicChannel(topic)).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeMessages();
    for (const [id] of this.pending) this.settle(id)?.reject(new ToneguardError('bus_closed', 'the node bus is closed', 503));
    await this.redis.subscriber.unsubscribe(this.commandChannel, this.replyChannel).catch(() => undefined);
  }

  private topicChannel(topic: string): string {
    return this.redis.name(`topic:${topic}`);
  }

  /** Subscribes now or, while Redis is down, on reconnection (ioredis resubscribes what it holds). */
  private listen(channel: string): void {
    this.redis.subscriber.subscribe(channel).catch((err: unknown) => {
      this.logger.warn({ err: { message: (err as Error).message } }, 'topic subscription deferred: Redis unreachable');
      const retry = this.redis.onReady(() => {
        retry();
        if (!this.closed) this.listen(channel);
      });
    });
  }

  private settle(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  private dispatch(channel: string, raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.logger.warn({ channel }, 'unreadable bus message ignored');
      return;
    }
    if (channel === this.commandChannel) void this.serve(parsed as CommandMessage);
    else if (channel === this.replyChannel) this.answer(parsed as ReplyMessage);
    else if (channel.startsWith(this.redis.name('topic:'))) {
      const envelope = parsed as TopicMessage;
      if (envelope.from !== this.instance) this.topics.deliver(channel.slice(this.redis.name('topic:').length), envelope.message);
    }
  }

  private async serve(message: CommandMessage): Promise<void> {
    let reply: ReplyMessage;
    try {
      reply = { id: message.id, result: (await this.handlers.run(message.command, message.payload)) ?? null };
    } catch (err) {
      if (toWireError(err).code === 'internal_error') this.logger.error({ command: message.command, err: { message: (err as Error).message } }, 'bus command failed');
      reply = { id: message.id, error: toWireError(err) };
    }
    await this.redis.command.publish(message.replyTo, JSON.stringify(reply)).catch((err: unknown) => {
      this.logger.warn({ command: message.command, err: { message: (err as Error).message } }, 'bus reply not sent: Redis unreachable');
    });
  }

  private answer(reply: ReplyMessage): void {
    const pending = this.settle(reply.id);
    if (!pending) return;
    if ('error' in reply) pending.reject(fromWireError(reply.error));
    else pending.resolve(reply.result);
  }
}
