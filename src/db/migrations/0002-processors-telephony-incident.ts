import type { Migration } from './index.js';

/**
 * What the processor side, the telephony webhooks and the incident switch keep, shared by every
 * node: Generic Pay Connector answers, the processor registry, used client-assertion ids,
 * answered platform call ids, and the one incident state row.
 */
export const PROCESSORS_TELEPHONY_INCIDENT_MIGRATION: Migration = {
  version: 2,
  name: 'processors, telephony, incident',
  sql: `
CREATE TABLE connector_transactions (
  transaction_id text PRIMARY KEY,
  method text NOT NULL,
  answer jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connector_transactions_created ON connector_transactions (created_at);
CREATE TABLE processors (
  name text PRIMARY KEY,
  keys jsonb NOT NULL,
  cert_fingerprint256 text NOT NULL,
  cert_serial text NOT NULL,
  enrolled_at text NOT NULL,
  revoked_at text
);
CREATE TABLE used_assertions (
  issuer text NOT NULL,
  jti text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
CREATE TABLE handled_calls (
  provider text NOT NULL,
  call_id text NOT NULL,
  handled_at bigint NOT NULL,
  PRIMARY KEY (provider, call_id)
);
CREATE INDEX handled_calls_handled_at ON handled_calls (handled_at);
CREATE TABLE incident_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  frozen boolean NOT NULL,
  revoked_before bigint,
  changed_at text,
  changed_by text
);
`,
};
