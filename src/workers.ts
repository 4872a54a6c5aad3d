import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` (no extension) that sits beside the module at `siblingUrl`
 * (pass `import.meta.url`). From the build it is plain `.js`; from TypeScript sources (tests,
 * tsx) the worker needs the same loader, so a bootstrap registers tsx before importing it.
 */
export function startSiblingWorker(siblingUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(fileURLToPath(siblingUrl));
  const entry = new URL(`./${name}${ext}`, siblingUrl);
  if (ext === '.js') return new Worker(entry, options);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
