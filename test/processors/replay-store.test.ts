import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AssertionReplayStore } from '../../src/processors/replay-store.js';

describe('the private_key_jwt replay store', () => {
  it('refuses an id seen before, across a reopen, forgets ids once expired, and keeps its files 0600', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'toneguard-replay-')), 'processors', 'used-assertions.db');
    const clock = { now: 1_000_000_000_000 };
    const first = new AssertionReplayStore(path, () => clock.now);
    const exp = clock.now / 1000 + 120;
    expect(await first.claim('alpha', 'jti-1', exp)).toBe(true);
    expect(await first.claim('alpha', 'jti-1', exp)).toBe(false);
    expect(await first.claim('beta', 'jti-1', exp)).toBe(true);
    first.close();

    const reopened = new AssertionReplayStore(path, () => clock.now);
    expect(await reopened.claim('alpha', 'jti-1', exp)).toBe(false);
    clock.now += 121_000;
    expect(await reopened.claim('alpha', 'jti-2', clock.now / 1000 + 60)).toBe(true);
    reopened.close();

    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT issuer, jti FROM used_assertions').all()).toEqual([{ issuer: 'alpha', jti: 'jti-2' }]);
    db.close();
    for (const file of [path, `${path}-wal`, `${path}-shm`].filter(existsSync)) expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
