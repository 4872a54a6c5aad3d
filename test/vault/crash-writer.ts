/**
 * Run as a child process by sqlite-store.test.ts: tokenizes cards into a SQLite vault without
 * end, printing each token once its write has resolved (is durable), until it is killed.
 */
import { MemoryAuditSink } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { createVault, loadKeyring, SqliteTokenStore } from '../../src/vault/index.js';
import { cardRequest, VISA } from './helpers.js';

const [dbPath, kek] = process.argv.slice(2);
const config = parseConfig({ vault: { keks: [kek] } });
const { keyring } = loadKeyring(config, { dataDir: '.', profile: 'production' });
const vault = createVault({ config, keyring, store: new SqliteTokenStore(dbPath), audit: new MemoryAuditSink() });

for (;;) {
  const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }, `subject-${i % 3}`))));
  process.stdout.write(batch.map((r) => `${r.token}\n`).join(''));
}
