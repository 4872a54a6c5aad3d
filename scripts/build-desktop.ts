/**
 * Builds the agent desktop into `dist/desktop/`: the TypeScript client bundled by esbuild into one
 * ES module (`desktop.js`), beside the page and its styles copied from `src/agent/desktop/public/`.
 * `npm run build` runs it after `tsc`, and the test run before any test; the server serves only this folder.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export async function buildDesktop(): Promise<void> {
  const outDir = root('dist/desktop/');
  const publicDir = root('src/agent/desktop/public/');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [root('src/agent/desktop/client/main.ts')],
    outfile: `${outDir}desktop.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of readdirSync(publicDir)) copyFileSync(`${publicDir}${file}`, `${outDir}${file}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDesktop();
