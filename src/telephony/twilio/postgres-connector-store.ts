import type { DatabasePool } from '../../db/pool.js';
import type { ConnectorAnswer, ConnectorAnswers, StoredAnswer } from './connector-store.js';

const DAY_MS = 86_400_000;
/** Old answers are deleted at most this often per node. */
const PRUNE_EVERY_MS = 60 * 60_000;

/**
 * Cluster mode's connector answers (table `connector_transactions`, migration 2). When two nodes
 * handle the same transaction at once, the first answer committed stands and both return it.
 */
export class PostgresConnectorStore implements ConnectorAnswers {
  private prunedAt = 0;

  constructor(
    private readonly pool: DatabasePool,
    private readonly retainDays = 30,
  ) {}

  async get(transactionId: string): Promise<StoredAnswer | undefined> {
    await this.pruneNowAndThen();
    const { rows } = await this.pool.query<StoredAnswer>('SELECT method, answer FROM connector_transactions WHERE transaction_id = $1', [transactionId]);
    return rows[0];
  }

  async put(transactionId: string, method: string, answer: ConnectorAnswer): Promise<ConnectorAnswer> {
    const { rows } = await this.pool.query<{ answer: ConnectorAnswer }>(
      `WITH inserted AS (
         INSERT INTO connector_transactions (transaction_id, method, answer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING answer
       )
       SELECT answer FROM inserted UNION ALL SELECT answer FROM connector_transactions WHERE transaction_id = $1 LIMIT 1`,
      [transactionId, method, JSON.stringify(answer)],
    );
    if (rows[0]) return rows[0].answer;
    // Another node inserted the same transaction while this statement ran: it waited for that
    // commit, but its own snapshot predates it. A new statement sees the answer that stands.
    const stored = await this.pool.query<{ answer: ConnectorAnswer }>('SELECT answer FROM connector_transactions WHERE transaction_id = $1', [transactionId]);
    return stored.rows[0]!.answer;
  }

  /** The pool belongs to the composition root. */
  close(): void {}

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    await this.pool.query('DELETE FROM connector_transactions WHERE created_at < $1', [new Date(this.prunedAt - this.retainDays * DAY_MS)]);
  }
}
