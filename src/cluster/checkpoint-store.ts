import type { Redis } from 'ioredis';
import type { Logger } from '../audit/logger.js';
import type { CaptureCheckpoint, CaptureCheckpointPort } from '../capture/checkpoint.js';
import type { KeyringPort } from '../vault/types.js';
import { openCheckpoint, sealCheckpoint, type SealedCheckpoint } from './checkpoint.js';

/** Where sealed checkpoints live, one per call (a call has at most one live capture). */
export interface CaptureCheckpoints {
  put(sealed: SealedCheckpoint, ttlMs: number): Promise<void>;
  get(callSid: string): Promise<SealedCheckpoint | undefined>;
  /** Deletes the call's checkpoint if it is still this capture's. */
  delete(callSid: string, captureId: string): Promise<void>;
  /** Every stored checkpoint (the orphan sweep reads their clear part only). */
  list(): Promise<SealedCheckpoint[]>;
}

/** One process's checkpoints (tests, and the default when there is no Redis). Expiry is checked on read. */
export class MemoryCaptureCheckpoints implements CaptureCheckpoints {
  private readonly byCall = new Map<string, { sealed: SealedCheckpoint; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(sealed: SealedCheckpoint, ttlMs: number): Promise<void> {
    this.byCall.set(sealed.callSid, { sealed, expiresAt: this.now() + ttlMs });
  }

  async get(callSid: string): Promise<SealedCheckpoint | undefined> {
    const entry = this.byCall.get(callSid);
    if (entry && entry.expiresAt <= this.now()) this.byCall.delete(callSid);
    return entry && entry.expiresAt > this.now() ? entry.sealed : undefined;
  }

  async delete(callSid: string, captureId: string): Promise<void> {
    if (this.byCall.get(callSid)?.sealed.captureId === captureId) this.byCall.delete(callSid);
  }

  async list(): Promise<SealedCheckpoint[]> {
    const all: SealedCheckpoint[] = [];
    for (const callSid of [...this.byCall.keys()]) {
      const sealed = await this.get(callSid);
      if (sealed) all.push(sealed);
    }
    return all;
  }
}

/** Deletes the key only if it still holds this capture's checkpoint (a later capture of the call keeps its own). */
const DELETE_IF_CAPTURE = `
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).captureId == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 0`;

/**
 * Checkpoints in Redis: `{prefix}checkpoint:{callSid}` holds the sealed JSON with a TTL (Redis keeps
 * nothing on disk here), and the set `{prefix}checkpoints` names the calls that have one, for the sweep.
 */
export class RedisCaptureCheckpoints implements CaptureCheckpoints {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(callSid: string): string {
    return `${this.prefix}checkpoint:${callSid}`;
  }

  private get index(): string {
    return `${this.prefix}checkpoints`;
  }

  async put(sealed: SealedCheckpoint, ttlMs: number): Promise<void> {
    await this.redis.multi().set(this.key(sealed.callSid), JSON.stringify(sealed), 'PX', ttlMs).sadd(this.index, sealed.callSid).exec();
  }

  async get(callSid: string): Promise<SealedCheckpoint | undefined> {
    const raw = await this.redis.get(this.key(callSid));
    return raw === null ? undefined : (JSON.parse(raw) as SealedCheckpoint);
  }

  async delete(callSid: string, captureId: string): Promise<void> {
    await this.redis.eval(DELETE_IF_CAPTURE, 2, this.key(callSid), this.index, captureId, callSid);
  }

  async list(): Promise<SealedCheckpoint[]> {
    const calls = await this.redis.smembers(this.index);
    if (calls.length === 0) return [];
    const raws = await this.redis.mget(...calls.map((callSid) => this.key(callSid)));
    const expired = calls.filter((_, i) => raws[i] === null);
    if (expired.length > 0) await this.redis.srem(this.index, ...expired);
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as SealedCheckpoint]));
  }
}

export interface CheckpointPortDeps {
  store: CaptureCheckpoints;
  keyring: KeyringPort;
  /** This node's id: the owner written into each checkpoint. */
  nodeId: string;
  /** How long a checkpoint may outlive its last save: the capture's longest life plus the resume window. */
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * The capture service's checkpoint port on a store: seals on save, opens on load, and keeps each
 * capture's saves and its final discard in order (a late save must never resurrect a discarded CVV).
 */
export function createCheckpointPort(deps: CheckpointPortDeps): CaptureCheckpointPort {
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ module: 'capture-checkpoints' });
  const queues = new Map<string, Promise<void>>();

  const enqueue = (captureId: string, task: () => Promise<void>) => {
    const next = (queues.get(captureId) ?? Promise.resolve())
      .then(task)
      .catch((err: unknown) => logger.warn({ captureId, errorType: err instanceof Error ? err.name : typeof err }, 'capture checkpoint not written'));
    queues.set(captureId, next);
    void next.then(() => {
      if (queues.get(captureId) === next) queues.delete(captureId);
    });
  };

  return {
    save(checkpoint) {
      let sealed: SealedCheckpoint;
      try {
        sealed = sealCheckpoint(deps.keyring, checkpoint, deps.nodeId, now());
      } finally {
        for (const value of checkpoint.completed.values()) value.fill(0);
      }
      enqueue(checkpoint.captureId, () => deps.store.put(sealed, deps.ttlMs));
    },
    discard(captureId, callSid) {
      enqueue(captureId, () => deps.store.delete(callSid, captureId));
    },
    async load(callSid): Promise<CaptureCheckpoint | undefined> {
      const sealed = await deps.store.get(callSid);
      return sealed ? openCheckpoint(deps.keyring, sealed) : undefined;
    },
  };
}
