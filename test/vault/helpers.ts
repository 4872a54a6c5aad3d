import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryAuditSink, type Actor } from '../../src/audit/types.js';
import { asciiDigits } from '../../src/capture/digits.js';
import type { TokenizeRequest } from '../../src/capture/types.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { ToneguardError } from '../../src/errors.js';
import { Keyring, createVault, type ManagedVault, type RecordBinding, type TokenStore, MemoryTokenStore } from '../../src/vault/index.js';
import { randomBytes } from 'node:crypto';

export const AGENT: Actor = { type: 'agent', id: 'agent-7' };
export const PROCESSOR: Actor = { type: 'processor', id: 'acme' };
export const VISA = '4111111111111111';
export const MASTERCARD = '5555555555554444';
export const AMEX = '378282246310005';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'toneguard-vault-'));

export function testConfig(vault: Record<string, unknown> = {}, dataDir = tempDir()): Config {
  return parseConfig({ dataDir, vault });
}

export const kek = (version: number) => ({ version, key: randomBytes(32), createdAt: null });

/** A card capture request as the capture engine hands it over, bound to the test processor. */
export function cardRequest(fields: Record<string, string>, subjectId?: string): TokenizeRequest & RecordBinding {
  const values = new Map(Object.entries(fields).map(([name, value]) => [name, asciiDigits(value)]));
  return { captureId: 'cap_1', callSid: 'CA1', actor: AGENT, values, kinds: new Map(), readers: [PROCESSOR.id], ...(subjectId ? { subjectId } : {}) };
}

export interface VaultFixture {
  vault: ManagedVault;
  store: TokenStore;
  keyring: Keyring;
  audit: MemoryAuditSink;
  clock: { now: number };
}

export function vaultFixture(options: { vault?: Record<string, unknown>; store?: TokenStore; keyring?: Keyring; now?: number } = {}): VaultFixture {
  const clock = { now: options.now ?? Date.UTC(2026, 0, 15) };
  const store = options.store ?? new MemoryTokenStore();
  const keyring = options.keyring ?? new Keyring([kek(1)], { fingerprintKey: randomBytes(32) });
  const audit = new MemoryAuditSink();
  const vault = createVault({ config: testConfig(options.vault), keyring, store, audit, clock: () => clock.now });
  return { vault, store, keyring, audit, clock };
}

/** The ToneguardError code `fn` throws, or undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ToneguardError ? err.code : 'not-a-toneguard-error';
  }
  return undefined;
}
