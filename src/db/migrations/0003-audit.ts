import type { Migration } from './index.js';

/**
 * The audit trail as one hash chain shared by every node. `record` is the sealed line exactly as
 * it was MACed (`json` keeps the text verbatim, so the file trail's verifier checks it unchanged);
 * seq, ts and node are copies for queries. The head row holds the next seq and the last MAC:
 * appending locks it (`FOR UPDATE`), which serialises writers across nodes. Retention deletes
 * the oldest records and keeps the last deleted one's seq and MAC in the anchor row, itself MACed.
 * `audit_node_config` holds the configuration fingerprint each node last recorded (`config.changed`).
 */
const sql = `
CREATE TABLE audit_records (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  ts timestamptz NOT NULL,
  node_id text NOT NULL,
  record json NOT NULL
);
CREATE INDEX audit_records_ts ON audit_records (ts);

CREATE TABLE audit_chain_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  next_seq bigint NOT NULL,
  last_mac text NOT NULL
);
INSERT INTO audit_chain_head (next_seq, last_mac) VALUES (0, '${'0'.repeat(64)}');

CREATE TABLE audit_chain_anchor (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  mac text NOT NULL,
  pruned_through text NOT NULL,
  anchor_mac text NOT NULL
);

CREATE TABLE audit_node_config (
  node_id text PRIMARY KEY,
  fingerprint text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
`;

export const AUDIT_MIGRATION: Migration = { version: 3, name: 'audit', sql };
