import type { Redis } from 'ioredis';
import type { Logger } from '../audit/logger.js';
import type { CaptureService } from '../capture/types.js';
import type { CallRegistry } from '../state/calls.js';
import type { CaptureCheckpoints } from './checkpoint-store.js';
import type { NodeDirectory } from './ports.js';

export interface OrphanSweepDeps {
  store: CaptureCheckpoints;
  directory: Pick<NodeDirectory, 'self' | 'get'>;
  calls: Pick<CallRegistry, 'get'>;
  captures: Pick<CaptureService, 'get' | 'failLost'>;
  redis: Redis;
  prefix: string;
  /** How long a lost node's capture waits for its call to reconnect elsewhere. */
  resumeWindowMs: number;
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}

export interface OrphanSweep {
  /** One pass; resolves to the number of captures it failed. */
  sweep(): Promise<number>;
  close(): void;
}

/** How long one node holds the right to fail an orphaned capture (it needs one Redis round trip or two). */
const LOCK_MS = 10_000;

/**
 * Fails, with `node_lost`, every capture whose node is gone and whose call did not resume within
 * the resume window (or ended). Every node sweeps; a short Redis lock lets one of them act on each
 * capture, and the checkpoint's clear part (the redacted view) is all it needs.
 */
export function startOrphanSweep(deps: OrphanSweepDeps): OrphanSweep {
  const now = deps.now ?? Date.now;
  const self = deps.directory.self.id;
  const logger = deps.logger.child({ module: 'orphan-sweep' });
  const lostKey = (captureId: string) => `${deps.prefix}orphan:${captureId}`;
  const lockKey = (captureId: string) => `${deps.prefix}orphan-lock:${captureId}`;

  /** When the capture was first seen without its node (the first sweeper to notice sets it). */
  const lostSince = async (captureId: string): Promise<number> => {
    const at = now();
    await deps.redis.set(lostKey(captureId), String(at), 'PX', deps.resumeWindowMs * 4, 'NX');
    return Number((await deps.redis.get(lostKey(captureId))) ?? at);
  };

  const ownerGone = async (owner: string, captureId: string): Promise<boolean> =>
    owner === self ? deps.captures.get(captureId)?.isActive() !== true : (await deps.directory.get(owner)) === undefined;

  const sweep = async (): Promise<number> => {
    let failed = 0;
    for (const sealed of await deps.store.list()) {
      if (!(await ownerGone(sealed.owner, sealed.captureId))) continue;
      const ended = deps.calls.get(sealed.callSid)?.state === 'ended';
      if (!ended && now() - (await lostSince(sealed.captureId)) < deps.resumeWindowMs) continue;
      if ((await deps.redis.set(lockKey(sealed.captureId), self, 'PX', LOCK_MS, 'NX')) !== 'OK') continue;
      // Resumed meanwhile? Then its checkpoint names the new owner.
      const current = await deps.store.get(sealed.callSid);
      if (!current || current.captureId !== sealed.captureId || current.owner !== sealed.owner) continue;
      deps.captures.failLost?.(current.view);
      await deps.store.delete(current.callSid, current.captureId);
      failed += 1;
    }
    return failed;
  };

  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(sweep).catch((err: unknown) => logger.warn({ errorType: err instanceof Error ? err.name : typeof err }, 'orphan sweep failed'));
  }, deps.intervalMs);
  timer.unref();
  return {
    sweep,
    close: () => clearInterval(timer),
  };
}
