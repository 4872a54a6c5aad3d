import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAuditKey } from '../../src/audit/audit-key.js';
import { drainInbox, INBOX_DIR, spoolAuditEvent } from '../../src/audit/inbox.js';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { listTrailFiles, readTrailLines } from '../../src/audit/trail-files.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { verifyChain } from '../../src/audit/verify.js';
import { WRITER_LOCK_FILE } from '../../src/audit/writer-lock.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/twilio.js';

const KEY = Buffer.from('test-audit-key-0123456789abcdef');
const ROTATED: AuditEvent = { action: 'keys.rotate', actor: { type: 'operator', id: 'olive' }, outcome: 'success', details: { toVersion: 2 } };

const tempDir = () => mkdtempSync(join(tmpdir(), 'toneguard-operator-'));
const openTrail = (dir: string) => new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20, syncEachBatch: false });
const records = (dir: string) => listTrailFiles(dir).flatMap((f) => readTrailLines(f.path).map((line) => JSON.parse(line) as AuditRecord));
const verify = (dir: string) => verifyChain(KEY, listTrailFiles(dir).map((f) => f.path));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('one writer per audit trail', () => {
  it('a second writer is refused while the first holds the trail, and admitted once it closes', async () => {
    const dir = tempDir();
    const first = openTrail(dir);
    first.record(ROTATED);
    expect(() => openTrail(dir)).toThrow(expect.objectContaining({ code: 'audit_trail_busy' }));
    await first.close();
    const second = openTrail(dir);
    second.record(ROTATED);
    await second.close();
    expect(verify(dir)).toMatchObject({ ok: true, records: 2 });
    expect(existsSync(join(dir, WRITER_LOCK_FILE))).toBe(false);
  });

  it('takes over a lock left by a process that is gone, or by an earlier life of this pid (a container restart)', async () => {
    for (const pid of [deadPid(), process.pid]) {
      const dir = tempDir();
      writeFileSync(join(dir, WRITER_LOCK_FILE), String(pid));
      const trail = openTrail(dir);
      trail.record(ROTATED);
      await trail.close();
      expect(verify(dir)).toMatchObject({ ok: true, records: 1 });
    }
  });

  it('refuses while a live process holds the lock', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, WRITER_LOCK_FILE), String(process.ppid));
    expect(() => openTrail(dir)).toThrow(expect.objectContaining({ code: 'audit_trail_busy' }));
  });
});

describe('the audit inbox', () => {
  it('drains spooled events into the chain, oldest first, with when they were spooled, and removes them', async () => {
    const dir = tempDir();
    spoolAuditEvent(dir, { ...ROTATED, details: { toVersion: 3 } }, Date.parse('2026-11-23T10:00:02Z'));
    spoolAuditEvent(dir, ROTATED, Date.parse('2026-11-23T10:00:01Z'));
    const trail = openTrail(dir);
    expect(await drainInbox(dir, trail)).toBe(2);
    await trail.close();
    expect(records(dir).map((r) => r.details)).toEqual([
      { toVersion: 2, spooledAt: '2026-11-23T10:00:01.000Z' },
      { toVersion: 3, spooledAt: '2026-11-23T10:00:02.000Z' },
    ]);
    expect(records(dir)[0]).toMatchObject({ action: 'keys.rotate', actor: { type: 'operator', id: 'olive' } });
    expect(readdirSync(join(dir, INBOX_DIR))).toEqual([]);
    expect(verify(dir)).toMatchObject({ ok: true, records: 2 });
  });

  it('records a file that is not a spooled event as audit.spool_rejected, and leaves half-written ones alone', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, INBOX_DIR));
    writeFileSync(join(dir, INBOX_DIR, '1700000000000-0123456789abcdef.json'), '{"spooledAt":"2026-11-23T10:00:00Z","event":{"action":"keys.rotate"}}');
    writeFileSync(join(dir, INBOX_DIR, '.1700000000001-0123456789abcdef.json.tmp'), '{"spooled');
    const trail = openTrail(dir);
    expect(await drainInbox(dir, trail)).toBe(1);
    await trail.close();
    expect(records(dir)).toEqual([expect.objectContaining({ action: 'audit.spool_rejected', outcome: 'failure', resource: { type: 'file', id: '1700000000000-0123456789abcdef.json' } })]);
    expect(readdirSync(join(dir, INBOX_DIR))).toEqual(['.1700000000001-0123456789abcdef.json.tmp']);
  });
});

describe('operator commands are audited in the chained trail', () => {
  it('with no service running, `keys generate` and `processors revoke` write straight into the trail, which verifies', async () => {
    const dataDir = tempDir();
    const env = { TONEGUARD_DATA_DIR: dataDir, USER: 'olive' };
    const generated = runCli(['keys', 'generate'], { env });
    expect(generated.status).toBe(0);
    expect(generated.stderr).toContain('audit: keys.generate recorded in the audit trail');
    const revoked = runCli(['processors', 'revoke', 'nobody'], { env });
    expect(revoked.status).toBe(1);
    const trail = join(dataDir, 'audit');
    expect(records(trail).map((r) => [r.action, r.outcome, r.actor.id])).toEqual([
      ['keys.generate', 'success', 'olive'],
      ['processor.revoked', 'failure', 'olive'],
    ]);
    expect(runCli(['audit', 'verify'], { env }).status).toBe(0);
  });

  it('while the service runs, the command queues its event and the service records it in its own chain', async () => {
    const server = await startTestServer();
    try {
      const generated = runCli(['keys', 'generate'], { env: { TONEGUARD_DATA_DIR: server.dataDir, USER: 'olive' } });
      expect(generated.status).toBe(0);
      expect(generated.stderr).toContain("audit: keys.generate queued for the running service's audit trail");
      const recorded = await waitFor(() => server.auditRecords().find((r) => r.action === 'keys.generate'), 5000);
      expect(recorded).toMatchObject({ actor: { type: 'operator', id: 'olive' }, outcome: 'success', details: { spooledAt: expect.any(String) } });
    } finally {
      await server.close();
    }
    const { key } = resolveAuditKey(server.context.config, { create: false });
    expect(verifyChain(key, listTrailFiles(join(server.dataDir, 'audit')).map((f) => f.path))).toMatchObject({ ok: true });
  });
});
