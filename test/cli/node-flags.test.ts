import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../src/cli/node-flags.js';

const root = new URL('../../', import.meta.url);

describe('the Node flags the service runs with', () => {
  it('are the ones the image and `npm start` pass', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(new URL('Dockerfile', root), 'utf8'));
    expect(entrypoint).not.toBeNull();
    const args = JSON.parse(entrypoint![1]) as string[];
    expect(args.slice(1, -1)).toEqual(SERVE_NODE_FLAGS);
    const start = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(`node ${SERVE_NODE_FLAGS.join(' ')} dist/cli.js serve`);
  });
});
