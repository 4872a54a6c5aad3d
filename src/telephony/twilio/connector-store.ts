import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** The answer we gave for a transaction: token or charge id and error codes only, never card data. */
export interface ConnectorAnswer {
  token_id?: string | null;
  charge_id?: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface StoredAnswer {
  method: string;
  answer: ConnectorAnswer;
}

/**
 * Idempotency records for the Generic Pay Connector: Twilio retries with the same
 * `transaction_id`, and must get the original answer back, across restarts (and, in cluster
 * mode, from whichever node the retry reaches).
 */
export interface ConnectorAnswers {
  get(transactionId: string): Promise<StoredAnswer | undefined>;
  /** Records `answer` unless the transaction already has one; resolves to the answer that stands (the first). */
  put(transactionId: string, method: string, answer: ConnectorAnswer): Promise<ConnectorAnswer>;
  close(): void;
}

/** The single-node store: a SQLite file in the data dir. */
export class ConnectorStore implements ConnectorAnswers {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { method: string; answer: string }>;
  private readonly putStmt: Database.Statement<[string, string, string, string]>;

  constructor(path: string, retainDays = 30) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS connector_transactions (
      transaction_id TEXT PRIMARY KEY,
      method TEXT NOT NULL,
      answer TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`);
    this.db.prepare('DELETE FROM connector_transactions WHERE created_at < ?').run(new Date(Date.now() - retainDays * 86_400_000).toISOString());
    this.getStmt = this.db.prepare('SELECT method, answer FROM connector_transactions WHERE transaction_id = ?');
    this.putStmt = this.db.prepare('INSERT OR IGNORE INTO connector_transactions (transaction_id, method, answer, created_at) VALUES (?, ?, ?, ?)');
  }

  async get(transactionId: string): Promise<StoredAnswer | undefined> {
    const row = this.getStmt.get(transactionId);
    return row ? { method: row.method, answer: JSON.parse(row.answer) as ConnectorAnswer } : undefined;
  }

  async put(transactionId: string, method: string, answer: ConnectorAnswer): Promise<ConnectorAnswer> {
    if (this.putStmt.run(transactionId, method, JSON.stringify(answer), new Date().toISOString()).changes === 1) return answer;
    return (await this.get(transactionId))!.answer;
  }

  close(): void {
    this.db.close();
  }
}
