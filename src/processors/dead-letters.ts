import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** A push that failed for good. It names the data by reference and token only: never card data. */
export interface DeadLetter {
  at: string;
  processor: string;
  reference: string;
  vaultToken: string;
  idempotencyKey: string;
  attempts: number;
  /** A stable code such as `http_503`, `timeout`, `network`, `http_400`. */
  error: string;
}

/** An append-only JSON-lines file under the data dir, readable only by the service user. */
export class DeadLetterLog {
  constructor(readonly path: string) {}

  append(letter: DeadLetter): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    appendFileSync(this.path, `${JSON.stringify(letter)}\n`, { mode: 0o600 });
  }

  list(): DeadLetter[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as DeadLetter);
  }
}
