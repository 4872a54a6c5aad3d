import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { verifyChain } from '../../src/audit/verify.js';
import { applyRetention } from '../../src/audit/retention.js';
import { fsTrailFileWriter, listTrailFiles, readAnchor, readTrailLines, type TrailFileWriter } from '../../src/audit/trail-files.js';
import { createCaptureService } from '../../src/capture/service.js';
import { parseConfig } from '../../src/config/index.js';
import type { AuditEvent } from '../../src/audit/types.js';
import type { ScrubKind } from '../../src/audit/scrubber.js';

const KEY = Buffer.from('test-audit-key-0123456789abcdef');
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-10T10:00:00Z');

function event(i: number): AuditEvent {
  return {
    action: 'vault.tokenize',
    actor: { type: 'agent', id: `agent-${i % 3}`, source: '10.0.0.1' },
    outcome: 'success',
    resource: { type: 'token', id: `tok_${i}` },
    details: { last4: '1111', brand: 'visa' },
  };
}

function freshTrail(options: { rotateBytes?: number; now?: () => number; onScrub?: (h: readonly ScrubKind[]) => void } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-audit-'));
  const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: options.rotateBytes ?? 1 << 20, now: options.now ?? (() => T0), syncEachBatch: false, onScrub: options.onScrub });
  return { dir, trail };
}

const paths = (dir: string) => listTrailFiles(dir).map((f) => f.path);

function rewrite(path: string, edit: (lines: string[]) => string[]): void {
  writeFileSync(path, `${edit(readTrailLines(path)).join('\n')}\n`);
}

describe('audit trail', () => {
  it('writes one sealed record per event with who, what, when, where, outcome and resource', async () => {
    const { dir, trail } = freshTrail();
    trail.record(event(1));
    await trail.close();
    const [line] = readTrailLines(paths(dir)[0]);
    const record = JSON.parse(line);
    expect(record).toMatchObject({ seq: 0, ts: '2026-01-10T10:00:00.000Z', action: 'vault.tokenize', actor: { id: 'agent-1', source: '10.0.0.1' }, outcome: 'success', resource: { id: 'tok_1' } });
    expect(record.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: 1 });
  });

  it('scrubs records and reports the hit', async () => {
    const hits: ScrubKind[] = [];
    const { dir, trail } = freshTrail({ onScrub: (h) => hits.push(...h) });
    trail.record({ ...event(1), details: { note: 'typed 4111111111111111' } });
    await trail.close();
    expect(readFileSync(paths(dir)[0], 'utf8')).not.toContain('4111111111111111');
    expect(hits).toEqual(['pan']);
    expect(verifyChain(KEY, paths(dir)).ok).toBe(true);
  });

  it('tells subscribers about each record after writing it', async () => {
    const { trail } = freshTrail();
    const seen: number[] = [];
    const stop = trail.subscribe((r) => seen.push(r.seq));
    trail.record(event(0));
    await trail.record(event(1));
    stop();
    await trail.record(event(2));
    expect(seen).toEqual([0, 1]);
  });

  it('continues the chain after a restart, in a new file', async () => {
    const { dir, trail } = freshTrail();
    trail.record(event(0));
    await trail.close();
    const again = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1 << 20, now: () => T0, syncEachBatch: false });
    again.record(event(1));
    await again.close();
    expect(paths(dir)).toHaveLength(2);
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: 2, lastSeq: 1 });
  });

  it('keeps the chain when a record arrives after close', async () => {
    const { dir, trail } = freshTrail();
    trail.record(event(0));
    await trail.close();
    trail.record(event(1));
    await trail.close();
    expect(verifyChain(KEY, paths(dir))).toMatchObject({ ok: true, records: 2, files: 2 });
  });

  it('refuses a key that does not match', async () => {
    const { dir, trail } = freshTrail();
    trail.record(event(0));
    await trail.close();
    expect(verifyChain(Buffer.from('another key'), paths(dir))).toMatchObject({ ok: false, line: 1, reason: expect.stringMatching(/MAC mismatch/) });
  });
});

describe('the tamper test', () => {
  async function trailOf(count: number, rotateBytes = 1 << 20) {
    const { dir, trail } = freshTrail({ rotateBytes });
    for (let i = 0; i < count; i++) trail.record(event(i));
    await trail.close();
    return dir;
  }

  it('finds an edited line', async () => {
    const dir = await trailOf(6);
    const [file] = paths(dir);
    rewrite(file, (lines) => lines.map((l, i) => (i === 3 ? l.replace('"outcome":"success"', '"outcome":"failure"') : l)));
    expect(verifyChain(KEY, [file])).toMatchObject({ ok: false, line: 4, reason: expect.stringMatching(/MAC/) });
  });

  it('finds a deleted line, including the first', async () => {
    for (const deleted of [0, 2, 4]) {
      const dir = await trailOf(6);
      const [file] = paths(dir);
      rewrite(file, (lines) => lines.filter((_, i) => i !== deleted));
      expect(verifyChain(KEY, [file]), `deleted ${deleted}`).toMatchObject({ ok: false, line: deleted + 1 });
    }
  });

  it('finds reordered lines', async () => {
    const dir = await trailOf(6);
    const [file] = paths(dir);
    rewrite(file, (lines) => [lines[0], lines[1], lines[3], lines[2], lines[4], lines[5]]);
    expect(verifyChain(KEY, [file])).toMatchObject({ ok: false, line: 3 });
  });

  it('finds a line copied from elsewhere in the trail', async () => {
    const dir = await trailOf(4);
    const [file] = paths(dir);
    rewrite(file, (lines) => [...lines, lines[1]]);
    expect(verifyChain(KEY, [file])).toMatchObject({ ok: false, line: 5 });
  });

  it('rotates by size, chains across files, and finds tampering in a later file', async () => {
    const dir = await trailOf(30, 2_000);
    const files = paths(dir);
    expect(files.length).toBeGreaterThan(3);
    expect(verifyChain(KEY, files)).toMatchObject({ ok: true, records: 30, files: files.length });
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(2_000);
    rewrite(files[2], (lines) => lines.slice(1));
    expect(verifyChain(KEY, files)).toMatchObject({ ok: false, file: listTrailFiles(dir)[2].name, line: 1 });
  });

  it('finds a whole rotated file removed or files swapped', async () => {
    const dir = await trailOf(30, 2_000);
    const files = paths(dir);
    expect(verifyChain(KEY, [files[0], ...files.slice(2)])).toMatchObject({ ok: false, file: listTrailFiles(dir)[2].name, line: 1 });
    expect(verifyChain(KEY, [files[1], files[0], ...files.slice(2)])).toMatchObject({ ok: false, line: 1 });
  });
});

describe('rotation by day and retention', () => {
  it('starts a new file each UTC day and keeps the chain', async () => {
    let now = T0;
    const { dir, trail } = freshTrail({ now: () => now });
    trail.record(event(0));
    now += DAY;
    trail.record(event(1));
    now += DAY;
    trail.record(event(2));
    await trail.close();
    expect(listTrailFiles(dir).map((f) => f.day)).toEqual(['2026-01-10', '2026-01-11', '2026-01-12']);
    expect(verifyChain(KEY, paths(dir)).ok).toBe(true);
  });

  it('archives files past onlineDays, deletes past retentionDays, and the chain still verifies from the anchor', async () => {
    let now = T0;
    const { dir, trail } = freshTrail({ now: () => now });
    for (let d = 0; d < 10; d++) {
      trail.record(event(d));
      trail.record(event(d + 100));
      now += DAY;
    }
    await trail.flush();
    const result = await applyRetention({ dir, key: KEY, onlineDays: 3, retentionDays: 6, now, skip: trail.currentFile });
    trail.record(event(999));
    await trail.close();
    expect(result.deleted).toHaveLength(4);
    expect(result.archived).toHaveLength(3);
    const files = listTrailFiles(dir);
    expect(files.map((f) => f.archived)).toEqual([true, true, true, false, false, false, false]);
    expect(readdirSync(dir)).toContain('anchor.json');
    expect(verifyChain(KEY, files.map((f) => f.path), { anchor: readAnchor(dir) })).toMatchObject({ ok: true, records: 13, firstSeq: 8 });
    expect(verifyChain(KEY, files.map((f) => f.path))).toMatchObject({ ok: false, line: 1 });
  });

  it('a forged anchor is refused', async () => {
    let now = T0;
    const { dir, trail } = freshTrail({ now: () => now });
    for (let d = 0; d < 3; d++) {
      trail.record(event(d));
      now += DAY;
    }
    await trail.close();
    await applyRetention({ dir, key: KEY, onlineDays: 1, retentionDays: 1, now });
    const anchor = readAnchor(dir)!;
    expect(existsSync(join(dir, 'anchor.json'))).toBe(true);
    expect(verifyChain(KEY, paths(dir), { anchor: { ...anchor, seq: anchor.seq - 1 } })).toMatchObject({ ok: false, file: 'anchor.json' });
  });
});

/** The real file writer, with a switch that makes appends fail as a full disk does (after writing part of the line). */
function fullDiskWriter() {
  const state = { full: false, failures: 0 };
  const writer: TrailFileWriter = {
    ...fsTrailFileWriter,
    append(fd, bytes) {
      if (!state.full) return fsTrailFileWriter.append(fd, bytes);
      state.failures += 1;
      fsTrailFileWriter.append(fd, bytes.subarray(0, Math.floor(bytes.length / 2)));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
  return { state, writer };
}

describe('audit trail on a failing disk (injected at the file-writer seam)', () => {
  function failingTrail() {
    const dir = mkdtempSync(join(tmpdir(), 'toneguard-audit-'));
    const { state, writer } = fullDiskWriter();
    const calls: string[] = [];
    const trail = new FileAuditTrail({
      dir,
      key: KEY,
      rotateBytes: 1 << 20,
      now: () => T0,
      writer,
      onWriteFailed: (code, first) => calls.push(`failed:${code}:${first}`),
      onRecovered: (outage) => calls.push(`recovered:${outage.queued}:${outage.lost}`),
    });
    return { dir, trail, state, calls };
  }

  it('never throws into the caller, cuts the torn line off, says it is unavailable, and recovers in order', async () => {
    const { dir, trail, state, calls } = failingTrail();
    await trail.record(event(0));
    state.full = true;
    let settled = false;
    expect(() => void trail.record(event(1)).finally(() => (settled = true))).not.toThrow();
    trail.record(event(2));
    await trail.flush();
    expect(trail.available()).toBe(false);
    // Held in memory, not yet durable: the promise waits for the recovery.
    expect(settled).toBe(false);
    expect(calls).toEqual(['failed:ENOSPC:true']);
    // Only the first failure touched the disk; the second event went straight to the backlog.
    expect(state.failures).toBe(1);
    expect(readTrailLines(paths(dir)[0])).toHaveLength(1);

    state.full = false;
    await trail.close();
    expect(settled).toBe(true);
    const records = paths(dir).flatMap((p) => readTrailLines(p).map((l) => JSON.parse(l)));
    expect(records.map((r) => r.action)).toEqual(['vault.tokenize', 'audit.write_failed', 'vault.tokenize', 'vault.tokenize']);
    expect(records[1].details).toMatchObject({ code: 'ENOSPC', queued: 2, lost: 0 });
    expect(records.slice(2).map((r) => r.resource.id)).toEqual(['tok_1', 'tok_2']);
    expect(calls).toEqual(['failed:ENOSPC:true', 'recovered:2:0']);
    expect(verifyChain(KEY, paths(dir)).ok).toBe(true);
  });

  it('retries on its own while unavailable, and a capture service refuses to start with 503 audit_unavailable meanwhile', async () => {
    const { trail, state } = failingTrail();
    const captures = createCaptureService({ config: parseConfig({}).capture, tokenizer: { tokenize: async () => ({ token: 'tok_x' }) } as never, audit: trail });
    const start = () => captures.start({ callSid: 'CA1', fields: [{ name: 'card_number' }], actor: { type: 'agent', id: 'a' } });
    state.full = true;
    trail.record(event(0));
    await trail.flush();
    expect(start).toThrow(expect.objectContaining({ code: 'audit_unavailable', status: 503 }));
    state.full = false;
    await vi.waitFor(() => expect(trail.available()).toBe(true), { timeout: 3_000 });
    expect(start().view().state).toBe('active');
    await trail.close();
  });
});
