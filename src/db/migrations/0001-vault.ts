import type { Migration } from './index.js';

/**
 * The vault's ciphertexts (`src/vault/postgres-store.ts`), the same columns as the SQLite store.
 * Times are epoch milliseconds (bigint) as the store interface carries them. The fingerprint is
 * unique so that two nodes tokenizing the same card at once converge on one token: the loser's
 * insert fails with `token_conflict` and the vault finds the winner's record.
 */
export const VAULT_MIGRATION: Migration = {
  version: 1,
  name: 'vault',
  sql: `
CREATE TABLE vault_records (
  token text PRIMARY KEY,
  kind text NOT NULL,
  brand text, bin text, last4 text,
  alias text UNIQUE,
  subject_id text,
  fingerprint text,
  key_version integer NOT NULL,
  wrapped_key text NOT NULL,
  ciphertext text NOT NULL,
  readers text[],
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE UNIQUE INDEX vault_records_fingerprint ON vault_records (fingerprint) WHERE fingerprint IS NOT NULL;
CREATE INDEX vault_records_expires ON vault_records (expires_at);
CREATE INDEX vault_records_subject ON vault_records (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX vault_records_key_version ON vault_records (key_version);
CREATE TABLE vault_subject_keys (
  subject_id text PRIMARY KEY,
  key_version integer NOT NULL,
  wrapped_key text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX vault_subject_keys_key_version ON vault_subject_keys (key_version);
`,
};
