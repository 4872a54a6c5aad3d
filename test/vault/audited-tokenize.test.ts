import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { fsTrailFileWriter, listTrailFiles, readTrailLines, type TrailFileWriter } from '../../src/audit/trail-files.js';
import { createVault, Keyring, MemoryTokenStore } from '../../src/vault/index.js';
import { cardRequest, kek, testConfig, VISA } from './helpers.js';

/** The real file writer; `hold` makes every fdatasync wait until `release`, `full` makes appends fail. */
function controlledWriter() {
  const state = { hold: false, full: false, syncs: 0, release: () => undefined as void };
  const writer: TrailFileWriter = {
    ...fsTrailFileWriter,
    append(fd, bytes) {
      if (state.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return fsTrailFileWriter.append(fd, bytes);
    },
    async sync(fd) {
      state.syncs += 1;
      if (state.hold) await new Promise<void>((resolve) => (state.release = resolve));
      return fsTrailFileWriter.sync(fd);
    },
  };
  return { state, writer };
}

function auditedVault() {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-vault-audit-'));
  const { state, writer } = controlledWriter();
  const trail = new FileAuditTrail({ dir, key: randomBytes(32), rotateBytes: 1 << 20, writer });
  const vault = createVault({ config: testConfig(), keyring: new Keyring([kek(1)]), store: new MemoryTokenStore(), audit: trail });
  return { dir, state, trail, vault };
}

describe('tokenize with the file audit trail', () => {
  it('returns the token only once its vault.tokenize record is durable', async () => {
    const { dir, state, trail, vault } = auditedVault();
    state.hold = true;
    let returned = false;
    const tokenizing = vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' })).then((r) => ((returned = true), r));
    await vi.waitFor(() => expect(state.syncs).toBe(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(returned).toBe(false);
    state.hold = false;
    state.release();
    const { token } = await tokenizing;
    const records = listTrailFiles(dir).flatMap((f) => readTrailLines(f.path).map((line) => JSON.parse(line) as { action: string; resource?: { id: string } }));
    expect(records).toEqual([expect.objectContaining({ action: 'vault.tokenize', resource: { type: 'token', id: token } })]);
    await trail.close();
  });

  it('is refused with 503 audit_unavailable while the trail cannot write', async () => {
    const { state, trail, vault } = auditedVault();
    state.full = true;
    trail.record({ action: 'test.padding', actor: { type: 'system', id: 'test' }, outcome: 'success' });
    await trail.flush();
    expect(trail.available()).toBe(false);
    await expect(vault.tokenize(cardRequest({ card_number: VISA, expiry: '1230' }))).rejects.toMatchObject({ code: 'audit_unavailable', status: 503 });
    state.full = false;
    await trail.close();
  });
});
