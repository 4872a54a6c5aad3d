import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';

/** A file to scan, and where its redacted copy goes relative to the output folder. */
export interface ScanTarget {
  path: string;
  /** The path under `--redact OUTDIR`: relative to the folder argument it was found in, or its own name. */
  outputName: string;
}

export type ListedPath = { target: ScanTarget } | { missing: string; reason: string };

/** Extensions of headerless audio picked up in folders when `--encoding` says how to read them. */
const HEADERLESS_EXTENSIONS = new Set(['.raw', '.pcm', '.ul', '.ulaw', '.mulaw', '.pcmu', '.al', '.alaw', '.pcma', '.l16', '.sln']);

/**
 * Expands the command's paths: files as given (whatever their name), folders recursively in name
 * order, taking `.wav` files and, with `headerless`, the usual raw-audio extensions.
 */
export function listScanTargets(paths: readonly string[], headerless: boolean): ListedPath[] {
  const listed: ListedPath[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      listed.push({ missing: path, reason: `cannot read the path${errnoSuffix(err)}` });
      continue;
    }
    if (isDirectory) walk(path, path, headerless, listed);
    else listed.push({ target: { path, outputName: basename(path) } });
  }
  return listed;
}

/** ` (ENOENT)` and the like: the reason a file operation failed, never its message (which may quote content). */
export function errnoSuffix(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? ` (${code})` : '';
}

function walk(root: string, dir: string, headerless: boolean, listed: ListedPath[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    listed.push({ missing: dir, reason: `cannot read the folder${errnoSuffix(err)}` });
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const ext = extname(entry.name).toLowerCase();
    if (entry.isDirectory()) walk(root, path, headerless, listed);
    else if (entry.isFile() && (ext === '.wav' || (headerless && HEADERLESS_EXTENSIONS.has(ext)))) {
      listed.push({ target: { path, outputName: relative(root, path) } });
    }
  }
}
