import { randomBytes } from 'node:crypto';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { Keyring, MemoryTokenStore, createVault, type Vault } from '../../src/vault/index.js';

export interface TestVault extends Vault {
  /** How many records were tokenized through this vault. */
  readonly tokenized: number;
}

/** The real vault with a fresh in-memory key and store, counting what it tokenizes. */
export function testVault(): TestVault {
  const vault = createVault({
    config: parseConfig({ vault: { store: 'memory' } }),
    keyring: new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }], { fingerprintKey: randomBytes(32) }),
    store: new MemoryTokenStore(),
    audit: new MemoryAuditSink(),
  });
  let tokenized = 0;
  return {
    ...vault,
    get tokenized() {
      return tokenized;
    },
    tokenize: (request) => {
      tokenized++;
      return vault.tokenize(request);
    },
    tokenizeValues: (request) => {
      tokenized++;
      return vault.tokenizeValues(request);
    },
  };
}
