import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditPage, runAuditExport, verifyAuditTrail } from '../../src/audit/export.js';
import { listTrailFiles, readTrailLines } from '../../src/audit/trail-files.js';
import { FileAuditTrail } from '../../src/audit/trail.js';
import { SYSTEM_ACTOR } from '../../src/audit/types.js';

const KEY = Buffer.alloc(32, 7);
const START = Date.parse('2026-03-01T23:59:50Z');
const RECORDS = 60;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toneguard-audit-export-'));
  let t = START;
  // One record a second across midnight, small files: the trail spans days and many files.
  const trail = new FileAuditTrail({ dir, key: KEY, rotateBytes: 1024, syncEachBatch: false, now: () => (t += 1000) });
  for (let i = 0; i < RECORDS; i++) trail.record({ action: 'test.event', actor: SYSTEM_ACTOR, outcome: 'success', details: { i } });
  await trail.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seqs = (records: Array<{ seq: number }>) => records.map((r) => r.seq);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('audit export across rotated files', () => {
  it('the fixture spans several files and two days', async () => {
    const files = listTrailFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    expect(new Set(files.map((f) => f.day)).size).toBe(2);
  });

  it('without a cursor: the newest records, oldest first', async () => {
    expect(seqs(readAuditPage(dir, { limit: 25 }))).toEqual(range(RECORDS - 25, 25));
    expect(seqs(readAuditPage(dir, { limit: 1000 }))).toEqual(range(0, RECORDS));
  });

  it.each([0, 3, 17, 40, 58])('after seq %i: the records that follow, across file boundaries', (after) => {
    expect(seqs(readAuditPage(dir, { limit: 10, after: { seq: after } }))).toEqual(range(after + 1, Math.min(10, RECORDS - 1 - after)));
  });

  it('after the last seq: an empty page', async () => {
    expect(readAuditPage(dir, { limit: 10, after: { seq: RECORDS - 1 } })).toEqual([]);
  });

  it('after a time: records strictly later, oldest first', async () => {
    // Record i was written at START + (i + 1) s.
    const page = readAuditPage(dir, { limit: 5, after: { time: new Date(START + 20_000) } });
    expect(seqs(page)).toEqual(range(20, 5));
  });

  it('paging with each page’s last seq reads the whole trail once, in order', async () => {
    const seen: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = readAuditPage(dir, { limit: 7, ...(after === undefined ? { after: { time: new Date(0) } } : { after: { seq: after } }) });
      if (page.length === 0) break;
      seen.push(...seqs(page));
      after = page[page.length - 1]!.seq;
    }
    expect(seen).toEqual(range(0, RECORDS));
  });

  it('a page after an early cursor reads forward only as far as it needs', async () => {
    // A later file garbled past its first line: reading it would throw.
    const copy = mkdtempSync(join(tmpdir(), 'toneguard-audit-export-'));
    cpSync(dir, copy, { recursive: true });
    const late = listTrailFiles(copy).at(-2)!;
    writeFileSync(late.path, `${readTrailLines(late.path)[0]}\nnot json\n`);
    expect(seqs(readAuditPage(copy, { limit: 5, after: { seq: 3 } }))).toEqual(range(4, 5));
    rmSync(copy, { recursive: true, force: true });
  });

  it('runAuditExport gives the same answers from a worker thread', async () => {
    expect(await runAuditExport({ op: 'page', dir, limit: 7, after: { time: new Date(START + 20_000) } })).toEqual(readAuditPage(dir, { limit: 7, after: { time: new Date(START + 20_000) } }));
    expect(await runAuditExport({ op: 'page', dir, limit: 3 })).toEqual(readAuditPage(dir, { limit: 3 }));
    expect(await runAuditExport({ op: 'verify', dir, key: KEY })).toEqual(verifyAuditTrail(dir, KEY));
  });

  it('verify: intact, then the edited line is named', async () => {
    expect(verifyAuditTrail(dir, KEY)).toMatchObject({ ok: true, records: RECORDS, firstSeq: 0, lastSeq: RECORDS - 1 });
    const file = listTrailFiles(dir)[2]!;
    const lines = readTrailLines(file.path);
    lines[1] = lines[1]!.replace('"outcome":"success"', '"outcome":"failure"');
    writeFileSync(file.path, `${lines.join('\n')}\n`);
    expect(verifyAuditTrail(dir, KEY)).toMatchObject({ ok: false, file: file.name, line: 2 });
  });
});
