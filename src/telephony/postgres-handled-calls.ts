import type { DatabasePool } from '../db/pool.js';
import type { HandledCalls } from './handled-calls.js';

const DAY_MS = 86_400_000;
/** Expired rows are deleted at most this often per node. */
const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * Cluster mode's answered call ids, one provider's share of table `handled_calls` (migration 2):
 * a claim is one insert, so a webhook replayed to another node, or delivered to two at once, is
 * answered by one only.
 */
export class PostgresHandledCallStore implements HandledCalls {
  private prunedAt = 0;

  constructor(
    private readonly pool: DatabasePool,
    private readonly provider: string,
    private readonly retainDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(callId: string): Promise<boolean> {
    if (this.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = this.now();
      await this.pool.query('DELETE FROM handled_calls WHERE provider = $1 AND handled_at < $2', [this.provider, this.prunedAt - this.retainDays * DAY_MS]);
    }
    const { rowCount } = await this.pool.query('INSERT INTO handled_calls (provider, call_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      this.provider,
      callId,
      this.now(),
    ]);
    return rowCount === 1;
  }

  /** The pool belongs to the composition root. */
  close(): void {}
}
