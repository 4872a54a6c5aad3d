import type { Logger } from '../audit/logger.js';
import { SYSTEM_ACTOR, type Actor, type AuditSink } from '../audit/types.js';
import type { TokenStore } from './store.js';
import { TOKEN_PATTERN } from './tokens.js';

export interface DisposalResult {
  disposed: number;
  /** Whether the freed pages already reached the database file (see `TokenStore.flushDeleted`). */
  flushed: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Deletes every record past its lifetime, `batchSize` per transaction, yielding between batches
 * so live calls never wait on it. A record's data key is wrapped in its own row, so deleting the
 * row destroys the key (crypto-shredding). One `vault.disposed` event per batch names the tokens.
 */
export async function disposeExpiredTokens(store: TokenStore, audit: AuditSink, options: { now: number; batchSize: number }): Promise<DisposalResult> {
  let disposed = 0;
  for (;;) {
    const tokens = await store.disposeExpired(options.now, options.batchSize);
    if (tokens.length === 0) break;
    disposed += tokens.length;
    audit.record({ action: 'vault.disposed', actor: SYSTEM_ACTOR, outcome: 'success', details: { reason: 'expired', count: tokens.length, tokens: tokens.join(',') } });
    if (tokens.length < options.batchSize) break;
    await yieldToEventLoop();
  }
  return { disposed, flushed: disposed === 0 || (await store.flushDeleted()) };
}

export interface ShredResult extends DisposalResult {
  shredded: boolean;
}

/** A data-subject request for one token: its row and wrapped data key deleted, the pages flushed, audited (`vault.shred`). */
export async function shredRecord(store: TokenStore, tokenOrAlias: string, actor: Actor, audit: AuditSink): Promise<ShredResult> {
  const record = await store.get(tokenOrAlias);
  const shredded = record ? await store.delete(record.token) : false;
  const flushed = shredded ? await store.flushDeleted() : true;
  // Only a well-formed token is named: what the operator typed could be anything, even a card number.
  const id = record?.token ?? (TOKEN_PATTERN.test(tokenOrAlias) ? tokenOrAlias : 'unrecognised');
  audit.record({ action: 'vault.shred', actor, outcome: shredded ? 'success' : 'failure', resource: { type: 'token', id }, details: shredded ? { records: 1, flushed } : { code: 'token_not_found' } });
  return { shredded, disposed: shredded ? 1 : 0, flushed };
}

/** Erases a data subject: its key and every record sealed under it, in one transaction; audited (`vault.shred`). */
export async function shredSubjectRecords(store: TokenStore, subjectId: string, actor: Actor, audit: AuditSink): Promise<ShredResult> {
  const hadKey = (await store.getSubjectKey(subjectId)) !== undefined;
  const disposed = await store.shredSubject(subjectId);
  const shredded = hadKey || disposed > 0;
  const flushed = shredded ? await store.flushDeleted() : true;
  audit.record({ action: 'vault.shred', actor, outcome: shredded ? 'success' : 'failure', resource: { type: 'subject', id: subjectId }, details: shredded ? { records: disposed, flushed } : { code: 'subject_not_found' } });
  return { shredded, disposed, flushed };
}

/**
 * A periodic job: runs its tasks in turn, once at start and then every `intervalMs`, never two
 * runs at once; a failing task is logged and the others still run.
 */
export interface Sweeper {
  /** One run now (the timer's runs are the same); resolves when it is over. */
  sweep(): Promise<void>;
  /** Stops the timer and waits for a run under way. */
  close(): Promise<void>;
}

export function startSweeper(options: { intervalMs: number; tasks: Record<string, () => Promise<unknown>>; logger: Logger }): Sweeper {
  let running: Promise<void> | undefined;
  let closed = false;
  const run = async () => {
    for (const [name, task] of Object.entries(options.tasks)) {
      if (closed) return;
      try {
        await task();
      } catch (err) {
        options.logger.error({ err, task: name }, 'disposal sweep failed');
      }
    }
  };
  const sweep = () => (running ??= run().finally(() => (running = undefined)));
  const timer = setInterval(() => void sweep(), options.intervalMs).unref();
  const first = setImmediate(() => void sweep());
  return {
    sweep,
    async close() {
      closed = true;
      clearInterval(timer);
      clearImmediate(first);
      await running;
    },
  };
}
