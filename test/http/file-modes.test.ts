import { chmodSync, lstatSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { developmentWarnings } from '../../src/config/validate.js';
import { runCli } from '../helpers/cli.js';
import { finalView, keypadTones, silence, startTwilioTestBed, TEST_AGENT, waitFor, type TwilioTestBed } from '../helpers/twilio.js';

/** Every file and folder under `root` (root included) with its permission bits, as `path: mode` in octal. */
function modesUnder(root: string): Record<string, string> {
  const modes: Record<string, string> = {};
  const walk = (path: string) => {
    const stat = lstatSync(path);
    modes[relative(root, path) || '.'] = `${stat.isDirectory() ? 'dir' : 'file'} ${(stat.mode & 0o777).toString(8).padStart(4, '0')}`;
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return modes;
}

function expectPrivate(modes: Record<string, string>): void {
  const loose = Object.entries(modes).filter(([, mode]) => mode !== 'dir 0700' && mode !== 'file 0600');
  expect(loose).toEqual([]);
}

describe('the data directory is private after a real call (issue 12, item 7f) (slow, real service)', () => {
  let bed: TwilioTestBed;
  let dataDir: string;

  beforeAll(async () => {
    // A folder the service must create itself, so its own mode is under test too.
    dataDir = join(mkdtempSync(join(tmpdir(), 'toneguard-modes-')), 'data');
    bed = await startTwilioTestBed({ dataDir, recording: { enabled: true } });
    const call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    const session = bed.server.context.captures.start({ callSid: call.callSid, fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }], actor: TEST_AGENT });
    const keyed = keypadTones('4111111111111111#1230947');
    await Promise.all([call.callerPlays(keyed, 4), call.agentPlays(silence((keyed.audio.length / 8) | 0), 4)]);
    await waitFor(() => finalView(bed.server, session.id));
    await call.hangUp();
    await waitFor(() => readdirSync(join(dataDir, 'recordings')).some((name) => name.endsWith('.tgrec')));
    await bed.close();
  }, 30_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('holds the vault, connector store, trail, keys and recording', () => {
    const modes = modesUnder(dataDir);
    for (const expected of ['vault.db', 'connector.db', 'audit', 'keys', 'recordings']) expect(Object.keys(modes)).toContain(expected);
    expect(Object.keys(modes).some((path) => path.startsWith('recordings/') && path.endsWith('.tgrec'))).toBe(true);
  });

  it('every folder is 0700 and every file 0600, the data directory itself included', () => {
    expectPrivate(modesUnder(dataDir));
  });
});

describe('CLI commands that write into the data directory keep it private (slow, real CLI)', () => {
  it('keys rotate creates the data directory, keys and trail 0700/0600', () => {
    // A loose umask, as a shell may have, must not leak into what the command writes.
    const dataDir = join(mkdtempSync(join(tmpdir(), 'toneguard-cli-modes-')), 'data');
    const result = runCli(['keys', 'rotate'], { env: { TONEGUARD_DATA_DIR: dataDir } });
    expect(result.status, result.stderr).toBe(0);
    expectPrivate(modesUnder(dataDir));
  });
});

describe('an existing data directory others can enter', () => {
  it('is reported in development (and refused in production, see production.test.ts)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-loose-'));
    chmodSync(dataDir, 0o755);
    expect(developmentWarnings(parseConfig({ dataDir, audit: { hmacKey: 'x' }, auth: { devIssuer: false } }))).toEqual([expect.stringMatching(/data directory .* accessible to group or others \(mode 0755\)/)]);
  });
});
