import type { DatabasePool } from '../db/pool.js';
import type { AssertionReplay } from './replay-store.js';

/** Expired ids are deleted at most this often per node: a claim never waits for more than its own insert otherwise. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Cluster mode's used assertion ids (table `used_assertions`, migration 2): a claim is one
 * insert, so of two nodes given the same assertion at once exactly one accepts it.
 */
export class PostgresAssertionReplayStore implements AssertionReplay {
  private prunedAt = 0;

  constructor(
    private readonly pool: DatabasePool,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(issuer: string, jti: string, expiresAtSec: number): Promise<boolean> {
    if (this.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = this.now();
      await this.pool.query('DELETE FROM used_assertions WHERE expires_at < $1', [Math.floor(this.now() / 1000)]);
    }
    const { rowCount } = await this.pool.query('INSERT INTO used_assertions (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [issuer, jti, expiresAtSec]);
    return rowCount === 1;
  }

  /** The pool belongs to the composition root. */
  close(): void {}
}
