import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepMerge, parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/audit/logger.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import { listTrailFiles, readTrailLines } from '../../src/audit/trail-files.js';

export interface TestServer extends RunningServer {
  /** Every log line the service wrote, as serialised (after redaction and scrubbing). */
  logLines: string[];
  dataDir: string;
  /** Every record in the service's audit trail so far (read from its files). */
  auditRecords(): AuditRecord[];
}

/** The records of the audit trail under `dataDir`, in chain order. */
export function readAuditRecords(dataDir: string): AuditRecord[] {
  return listTrailFiles(join(dataDir, 'audit')).flatMap((f) => readTrailLines(f.path).map((line) => JSON.parse(line) as AuditRecord));
}

export const TEST_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
export const TEST_ACCOUNT_SID = 'AC00000000000000000000000000000000';

/**
 * Starts the real service on a free loopback port with a fresh data directory and
 * captured logs. `overrides` is merged over the test defaults.
 */
export async function startTestServer(overrides: Record<string, unknown> = {}, options: Omit<StartOptions, 'logger'> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-test-'));
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void logLines.push(line) },
  });
  const base = {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    publicUrl: 'https://toneguard.test',
    twilio: { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN },
  };
  const config = parseConfig(deepMerge(base, overrides));
  const running = await startServer(config, { ...options, logger });
  return Object.assign(running, { logLines, dataDir, auditRecords: () => readAuditRecords(dataDir) });
}
