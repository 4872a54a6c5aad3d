import type { Logger } from '../audit/logger.js';
import type { RedisConnections } from '../cluster/redis.js';
import { MemoryCallRegistry, type CallRecord, type CallRegistry } from './calls.js';

/** A call nobody ended (its node died) still leaves Redis eventually. */
export const LIVE_CALL_TTL_MS = 24 * 60 * 60_000;

const VERSION_FIELD = '_v';

/**
 * Replaces the call's hash (KEYS[1]) with the given fields, bumps its version, lists it in
 * KEYS[2] and publishes the whole record. ARGV: channel, TTL ms, call id, field/value pairs.
 * Publishing from the script orders the messages as the writes: every mirror converges.
 */
const UPSERT_SCRIPT = `
local v = tonumber(redis.call('HGET', KEYS[1], '${VERSION_FIELD}') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '${VERSION_FIELD}', v, unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[1], cjson.encode({callSid = ARGV[3], fields = redis.call('HGETALL', KEYS[1])}))
return v
`;

/**
 * Patches the call's hash, only if it exists (false otherwise: the writer then upserts its whole
 * record). ARGV: channel, TTL ms, call id, n, n fields to delete, field/value pairs to set. Fields
 * another node changed meanwhile are kept.
 */
const UPDATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = tonumber(ARGV[4])
for i = 5, 4 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
if #ARGV > 4 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 5 + n)) end
local v = redis.call('HINCRBY', KEYS[1], '${VERSION_FIELD}', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[1], cjson.encode({callSid = ARGV[3], fields = redis.call('HGETALL', KEYS[1])}))
return v
`;

interface CallMessage {
  callSid: string;
  fields: string[];
}

interface Versioned {
  record: CallRecord;
  version: number;
}

/** Fields as a flat HGETALL-like array of pairs, back to a record and its version. */
function fromFields(fields: string[] | Record<string, string>): Versioned | undefined {
  const entries = Array.isArray(fields) ? pairs(fields) : Object.entries(fields);
  if (entries.length === 0) return undefined;
  const record: Record<string, unknown> = {};
  let version = 0;
  for (const [name, value] of entries) {
    if (name === VERSION_FIELD) version = Number(value);
    else record[name] = JSON.parse(value);
  }
  return { record: record as unknown as CallRecord, version };
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

function toFields(record: object): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(record)) if (value !== undefined) out.push(name, JSON.stringify(value));
  return out;
}

/** Same content whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export interface RedisCallRegistryOptions {
  redis: RedisConnections;
  /** This node: on reconnection it republishes the live calls pinned to it that Redis lost. */
  selfId: string;
  logger: Logger;
  retainEndedMs?: number;
}

/**
 * The call registry every node shares. Reads are synchronous, from a local mirror of every call
 * record: loaded at start, fed by the `calls` channel, reloaded after each reconnection. A write
 * applies to the mirror at once (listeners hear it at once) and goes to Redis in the background:
 * a hash `call:{id}` per call (a field per property, JSON, and a version), listed in the set
 * `calls`, expiring `retainEndedMs` after the call ended. While Redis is down, writes stay local
 * and are pushed after reconnection. Call records hold no captured value.
 */
export class RedisCallRegistry implements CallRegistry {
  private readonly mirror: MemoryCallRegistry;
  private readonly versions = new Map<string, number>();
  /** Calls written here whose last write did not reach Redis. */
  private readonly unsent = new Set<string>();
  private readonly retainEndedMs: number;
  private readonly channel: string;
  private readonly setKey: string;
  private redisRunId: string | undefined;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  private readonly detach: (() => void)[] = [];

  private constructor(private readonly options: RedisCallRegistryOptions) {
    this.retainEndedMs = options.retainEndedMs ?? 10 * 60_000;
    this.mirror = new MemoryCallRegistry(this.retainEndedMs);
    this.channel = options.redis.name('calls');
    this.setKey = options.redis.name('calls');
    const onMessage = (channel: string, raw: string) => {
      if (channel === this.channel) this.receive(raw);
    };
    options.redis.subscriber.on('message', onMessage);
    this.detach.push(() => options.redis.subscriber.off('message', onMessage));
    this.detach.push(options.redis.onReady(() => void this.resync()));
  }

  /** Subscribes, then loads every call record; fails when Redis cannot be reached. */
  static async open(options: RedisCallRegistryOptions): Promise<RedisCallRegistry> {
    const registry = new RedisCallRegistry(options);
    await options.redis.subscriber.subscribe(registry.channel);
    await registry.load();
    return registry;
  }

  get(callSid: string): CallRecord | undefined {
    return this.mirror.get(callSid);
  }

  findByAnyLeg(id: string): CallRecord | undefined {
    return this.mirror.findByAnyLeg(id);
  }

  forAgent(agentId: string): CallRecord[] {
    return this.mirror.forAgent(agentId);
  }

  list(): CallRecord[] {
    return this.mirror.list();
  }

  onChange(listener: (record: CallRecord) => void): () => void {
    return this.mirror.onChange(listener);
  }

  upsert(record: CallRecord): void {
    this.mirror.upsert(record);
    void this.sendWhole(record);
  }

  update(callSid: string, patch: Partial<Omit<CallRecord, 'callSid'>>): CallRecord | undefined {
    const next = this.mirror.update(callSid, patch);
    if (next) void this.sendPatch(next, patch);
    return next;
  }

  /** Stops listening; the mirror stays readable. */
  close(): void {
    for (const detach of this.detach.splice(0)) detach();
    this.options.redis.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  /** Resolves once a resync in progress (after a reconnection) is done; for tests and readiness. */
  async settled(): Promise<void> {
    while (this.resyncing) await this.resyncing;
  }

  private ttlOf(record: CallRecord): number {
    return record.state === 'ended' ? this.retainEndedMs : LIVE_CALL_TTL_MS;
  }

  private keyOf(callSid: string): string {
    return this.options.redis.name(`call:${callSid}`);
  }

  private async sendWhole(record: CallRecord): Promise<void> {
    try {
      await this.options.redis.command.eval(UPSERT_SCRIPT, 2, this.keyOf(record.callSid), this.setKey, this.channel, this.ttlOf(record), record.callSid, ...toFields(record));
      this.unsent.delete(record.callSid);
    } catch (err) {
      this.markUnsent(record.callSid, err);
    }
  }

  private async sendPatch(next: CallRecord, patch: Partial<CallRecord>): Promise<void> {
    const removed = Object.entries(patch).filter(([, v]) => v === undefined).map(([name]) => name);
    try {
      const applied = await this.options.redis.command.eval(
        UPDATE_SCRIPT, 1, this.keyOf(next.callSid), this.channel, this.ttlOf(next), next.callSid, removed.length, ...removed, ...toFields(patch),
      );
      if (applied === null) await this.sendWhole(this.mirror.get(next.callSid) ?? next);
      else this.unsent.delete(next.callSid);
    } catch (err) {
      this.markUnsent(next.callSid, err);
    }
  }

  private markUnsent(callSid: string, err: unknown): void {
    if (this.unsent.size === 0) this.options.logger.warn({ err: { message: (err as Error).message } }, 'call record kept locally: Redis unreachable');
    this.unsent.add(callSid);
  }

  private receive(raw: string): void {
    let message: CallMessage;
    try {
      message = JSON.parse(raw) as CallMessage;
    } catch {
      this.options.logger.warn('unreadable call record message ignored');
      return;
    }
    const incoming = fromFields(message.fields);
    if (incoming) this.apply(message.callSid, incoming, false);
  }

  /** Takes the shared version when newer (or always, after Redis restarted); listeners hear only real changes. */
  private apply(callSid: string, incoming: Versioned, force: boolean): void {
    if (!force && incoming.version <= (this.versions.get(callSid) ?? 0)) return;
    this.versions.set(callSid, incoming.version);
    const current = this.mirror.get(callSid);
    if (current && canonical(current) === canonical(incoming.record)) return;
    this.mirror.upsert(incoming.record);
  }

  /** Loads every call record from Redis into the mirror, dropping the calls Redis no longer holds. */
  private async load(): Promise<void> {
    const redis = this.options.redis.command;
    const runId = /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
    const restarted = this.redisRunId !== undefined && runId !== this.redisRunId;
    this.redisRunId = runId;
    const ids = await redis.smembers(this.setKey);
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keyOf(id));
    const results = (await pipeline.exec()) ?? [];
    const held = new Set<string>();
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const [err, fields] = results[i] ?? [];
      const loaded = err ? undefined : fromFields(fields as Record<string, string>);
      if (!loaded) {
        if (!err) gone.push(id);
        return;
      }
      held.add(id);
      this.apply(id, loaded, restarted);
    });
    if (gone.length > 0) await redis.srem(this.setKey, ...gone);
    for (const call of this.mirror.list()) {
      if (held.has(call.callSid) || this.unsent.has(call.callSid)) continue;
      this.mirror.forget(call.callSid);
      this.versions.delete(call.callSid);
    }
  }

  /**
   * After a reconnection: pushes what did not reach Redis and the live calls pinned here that Redis
   * lost (it restarted), then reloads. Runs one at a time; a reconnection meanwhile runs it again.
   */
  private resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        try {
          await this.pushMissing();
          await this.load();
        } catch (err) {
          this.options.logger.warn({ err: { message: (err as Error).message } }, 'call registry resync failed; retried on reconnection');
        }
      } while (this.resyncAgain);
    })().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  private async pushMissing(): Promise<void> {
    const redis = this.options.redis.command;
    for (const call of this.mirror.list()) {
      const pinnedHere = call.node === this.options.selfId && call.state !== 'ended';
      if (this.unsent.has(call.callSid) || (pinnedHere && (await redis.exists(this.keyOf(call.callSid))) === 0)) await this.sendWhole(call);
    }
    if (this.unsent.size > 0) throw new Error('call records still unsent');
  }
}
