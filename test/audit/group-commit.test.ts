import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { applyRetention } from '../../src/audit/retention.js';
import { fsTrailFileWriter, listTrailFiles, readTrailLines, type TrailFileWriter } from '../../src/audit/trail-files.js';
import { verifyChain } from '../../src/audit/verify.js';
import { SYSTEM_ACTOR, type AuditEvent } from '../../src/audit/types.js';

/**
 * Every blocking fsync and gzip the trail could make on the event loop, counted, and the
 * asynchronous fdatasync too, to see how many batches a burst became. (Appending a line is a
 * `write` into the page cache, microseconds: it stays synchronous so that order and readers
 * see records at once.)
 */
const calls = vi.hoisted(() => ({ sync: [] as string[], fdatasync: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const blocking = ['fdatasyncSync', 'fsyncSync'] as const;
  const counted = Object.fromEntries(
    blocking.map((name) => [name, (...args: unknown[]) => (calls.sync.push(name), (fs[name] as (...a: unknown[]) => unknown)(...args))]),
  );
  const fdatasync = (...args: Parameters<typeof fs.fdatasync>) => ((calls.fdatasync += 1), fs.fdatasync(...args));
  return { ...fs, ...counted, fdatasync, default: { ...fs, ...counted, fdatasync } };
});

vi.mock('node:zlib', async (importOriginal) => {
  const zlib = await importOriginal<typeof import('node:zlib')>();
  const gzipSync = (...args: Parameters<typeof zlib.gzipSync>) => (calls.sync.push('gzipSync'), zlib.gzipSync(...args));
  return { ...zlib, gzipSync, default: { ...zlib, gzipSync } };
});

const KEY = Buffer.from('group-commit-test-key-0123456789');
const BURST = 500;

const event = (i: number): AuditEvent => ({ action: 'test.burst', actor: SYSTEM_ACTOR, outcome: 'success', details: { i } });
const freshDir = () => mkdtempSync(join(tmpdir(), 'toneguard-audit-commit-'));
const paths = (dir: string) => listTrailFiles(dir).map((f) => f.path);

afterEach(() => {
  calls.sync.length = 0;
  calls.fdatasync = 0;
});

/** The real writer, with every fdatasync held back until the test lets it go: a disk as slow as you like. */
function heldBackDisk() {
  const disk = {
    syncs: 0,
    release: () => undefined as void,
    writer: {
      ...fsTrailFileWriter,
      async sync(fd: number) {
        disk.syncs += 1;
        await new Promise<void>((resolve) => (disk.release = resolve));
        return fsTrailFileWriter.sync(fd);
      },
    } as TrailFileWriter,
  };
  return disk;
}

describe('audit trail group commit, off the event loop', () => {
  it('a burst of records makes no fsync on the event loop, and is durable in a few fdatasyncs, in order', async () => {
    const dir = freshDir();
    const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20 });
    calls.sync.length = 0;
    const durable = Array.from({ length: BURST }, (_, i) => trail.record(event(i)));
    await Promise.all(durable);
    expect(calls.sync).toEqual([]);
    expect(calls.fdatasync).toBeGreaterThanOrEqual(1);
    expect(calls.fdatasync).toBeLessThan(BURST / 10);
    await trail.close();
    const records = readTrailLines(paths(dir)[0]).map((line) => JSON.parse(line) as { seq: number; details: { i: number } });
    expect(records.map((r) => r.details.i)).toEqual(Array.from({ length: BURST }, (_, i) => i));
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: BURST });
  });

  it('record() returns while the fdatasync is still under way: the loop runs on, and the promise resolves only once the sync is done', async () => {
    const disk = heldBackDisk();
    const { writer } = disk;
    const release = () => disk.release();
    const dir = freshDir();
    const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20, writer });
    let durable = 0;
    const first = trail.record(event(0)).then(() => (durable += 1));
    await vi.waitFor(() => expect(disk.syncs).toBe(1));
    const burst = Array.from({ length: BURST }, (_, i) => trail.record(event(i + 1)).then(() => (durable += 1)));
    // A frame's worth of work scheduled now runs although the disk has not answered.
    await new Promise((resolve) => setImmediate(resolve));
    expect(durable).toBe(0);

    release();
    await first;
    expect(durable).toBe(1);
    // Everything recorded during the first sync went out as the next batch: one more fdatasync.
    await vi.waitFor(() => expect(disk.syncs).toBe(2));
    expect(durable).toBe(1);
    release();
    await Promise.all(burst);
    expect(durable).toBe(BURST + 1);
    expect(disk.syncs).toBe(2);
    const closing = trail.close();
    await vi.waitFor(() => expect(disk.syncs).toBe(3));
    release();
    await closing;
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: BURST + 1 });
  });

  it('settles a synced batch a slice per turn of the loop, so a read queued meanwhile runs before the whole batch resumes', async () => {
    const disk = heldBackDisk();
    const { writer } = disk;
    const release = () => disk.release();
    const dir = freshDir();
    const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20, writer });
    const order: string[] = [];
    const durable = Array.from({ length: 40 }, (_, i) => trail.record(event(i)).then(() => order.push(`durable ${i}`)));
    await vi.waitFor(() => expect(disk.syncs).toBe(1));
    release();
    await durable[0];
    // A read arriving now gets its turn before the batch's last callers resume.
    setImmediate(() => order.push('read'));
    await Promise.all(durable);
    const read = order.indexOf('read');
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(order.length - 1);
    expect(order.filter((o) => o !== 'read')).toEqual(Array.from({ length: 40 }, (_, i) => `durable ${i}`));
    const closing = trail.close();
    await vi.waitFor(() => expect(disk.syncs).toBe(2));
    release();
    await closing;
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: 40 });
  });

  it('shutdown writes everything queued before close() resolves', async () => {
    const dir = freshDir();
    const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20 });
    for (let i = 0; i < 50; i++) trail.record(event(i));
    trail.record({ action: 'service.stopped', actor: SYSTEM_ACTOR, outcome: 'success' });
    await trail.close();
    const actions = readTrailLines(paths(dir)[0]).map((line) => (JSON.parse(line) as { action: string }).action);
    expect(actions).toHaveLength(51);
    expect(actions.at(-1)).toBe('service.stopped');
  });

  it('retention gzips a day file without a blocking gzip', async () => {
    const dir = freshDir();
    const day = Date.parse('2026-01-10T10:00:00Z');
    const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20, now: () => day });
    for (let i = 0; i < 20; i++) trail.record(event(i));
    await trail.close();
    calls.sync.length = 0;
    const result = await applyRetention({ dir, key: KEY, onlineDays: 1, retentionDays: 30, now: day + 5 * 86_400_000 });
    expect(result.archived).toHaveLength(1);
    expect(calls.sync).toEqual([]);
    expect(listTrailFiles(dir).map((f) => f.archived)).toEqual([true]);
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: 20 });
  });
});
