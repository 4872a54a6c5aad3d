import { closeSync, existsSync, fdatasync, fstatSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gunzipSync } from 'node:zlib';
import type { ChainAnchor } from './chain.js';

/** `audit-YYYY-MM-DD-NNNN.jsonl`, gzip-archived as `.jsonl.gz`: names sort in chain order. */
const TRAIL_FILE = /^audit-(\d{4}-\d{2}-\d{2})-(\d{4})\.jsonl(\.gz)?$/;
const ANCHOR_FILE = 'anchor.json';

export interface TrailFile {
  name: string;
  path: string;
  /** UTC day the file's records belong to. */
  day: string;
  index: number;
  archived: boolean;
}

export function trailFileName(day: string, index: number): string {
  return `audit-${day}-${String(index).padStart(4, '0')}.jsonl`;
}

export function parseTrailFileName(dir: string, name: string): TrailFile | undefined {
  const m = TRAIL_FILE.exec(name);
  if (!m) return undefined;
  return { name, path: join(dir, name), day: m[1], index: Number(m[2]), archived: m[3] !== undefined };
}

/** The trail's files in chain order. */
export function listTrailFiles(dir: string): TrailFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => parseTrailFileName(dir, name))
    .filter((f): f is TrailFile => f !== undefined)
    .sort((a, b) => (a.day === b.day ? a.index - b.index : a.day < b.day ? -1 : 1));
}

const gunzipAsync = promisify(gunzip);

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A trail file's lines, transparently un-gzipping archives. The last empty line is dropped. */
export function readTrailLines(path: string): string[] {
  const raw = readFileSync(path);
  return splitLines((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

/** `readTrailLines` off the event loop, for work the running service does (retention). */
export async function loadTrailLines(path: string): Promise<string[]> {
  const raw = await readFile(path);
  return splitLines((path.endsWith('.gz') ? await gunzipAsync(raw) : raw).toString('utf8'));
}

/** A trail file's first line without reading the whole file (archives are un-gzipped whole). */
export function readFirstTrailLine(path: string): string | undefined {
  if (path.endsWith('.gz')) return readTrailLines(path)[0];
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    const parts: Buffer[] = [];
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      const end = chunk.subarray(0, read).indexOf(0x0a);
      parts.push(Buffer.from(chunk.subarray(0, end < 0 ? read : end)));
      if (end >= 0) break;
    }
    const line = Buffer.concat(parts).toString('utf8');
    return line === '' ? undefined : line;
  } finally {
    closeSync(fd);
  }
}

export function readAnchor(dir: string): ChainAnchor | undefined {
  const path = join(dir, ANCHOR_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ChainAnchor;
}

export async function writeAnchor(dir: string, anchor: ChainAnchor): Promise<void> {
  const path = join(dir, ANCHOR_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(anchor), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/**
 * The file operations the trail appends with: the one seam between the chain and the disk, so
 * a test can make writes fail or hold a sync back. Appending is a synchronous `write` into the
 * page cache (microseconds, and in order); the slow part, the fdatasync, runs on libuv's thread
 * pool and never on the event loop that carries call audio.
 */
export interface TrailFileWriter {
  /** Opens (creating 0600) a file for appending; returns its descriptor. */
  open(path: string): number;
  size(fd: number): number;
  /** Writes every byte, or throws. */
  append(fd: number, bytes: Buffer): void;
  /** fdatasync, off the event loop. */
  sync(fd: number): Promise<void>;
  /** Cuts the file back to `size`: drops the torn end of a write that failed. */
  truncate(fd: number, size: number): void;
  close(fd: number): void;
}

/** fdatasync on libuv's thread pool: the event loop never waits in the syscall. */
export const fdatasyncOffTheLoop = promisify(fdatasync);

export const fsTrailFileWriter: TrailFileWriter = {
  open: (path) => openSync(path, 'a', 0o600),
  size: (fd) => fstatSync(fd).size,
  append(fd, bytes) {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  },
  sync: (fd) => fdatasyncOffTheLoop(fd),
  truncate: (fd, size) => ftruncateSync(fd, size),
  close: (fd) => closeSync(fd),
};
