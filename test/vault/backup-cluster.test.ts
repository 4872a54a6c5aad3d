import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { vaultBackupCommand, vaultRestoreCommand } from '../../src/cli/vault.js';

const CLUSTER_ENV = { TONEGUARD_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused', TONEGUARD_REDIS_URL: 'redis://127.0.0.1:6379' };

describe('vault backup and restore in cluster mode', () => {
  afterEach(() => {
    for (const name of Object.keys(CLUSTER_ENV)) delete process.env[name];
  });

  it('refuse cleanly, pointing at pg_dump and point-in-time recovery, before touching anything', async () => {
    Object.assign(process.env, CLUSTER_ENV);
    for (const run of [() => vaultBackupCommand(parseArgs(['--out', '/nonexistent/backup'])), () => vaultRestoreCommand(parseArgs(['--in', '/nonexistent/backup']))]) {
      await expect(run()).rejects.toMatchObject({ code: 'backup_unsupported_store', message: expect.stringMatching(/pg_dump.*PITR/) });
    }
  });
});
