import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

/** Where Debian's softhsm2 package puts the PKCS#11 library (the first is a symlink to the second). */
export const SOFTHSM_MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((path) => existsSync(path)) ?? null;

const utilRuns = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' }).status === 0;

/** SoftHSM2 tests are skipped only where softhsm2 is not installed, and never in CI (which installs it). */
export const skipWithoutSoftHsm = !(SOFTHSM_MODULE && utilRuns) && process.env.CI !== 'true';
if (skipWithoutSoftHsm) console.warn('SKIPPED: SoftHSM2 tests need Debian softhsm2 (apt-get install softhsm2)');

export const USER_PIN = '246810';

export interface SoftHsm {
  conf: string;
  module: string;
  /** What a process needs in its environment to use `label` as the vault's KEK token. */
  env(label: string): Record<string, string>;
  /** Initialises a fresh token with the user PIN `USER_PIN`. */
  initToken(label: string): void;
}

/**
 * A SoftHSM2 whose tokens live in a temporary directory. The library reads SOFTHSM2_CONF when it is
 * initialised, once per process, so this sets it for the whole test process: one per test file.
 */
export function softHsm(): SoftHsm {
  const dir = tempDir();
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const module = SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
  return {
    conf,
    module,
    env: (label) => ({
      SOFTHSM2_CONF: conf,
      TONEGUARD_KEK_PROVIDER: 'pkcs11',
      TONEGUARD_PKCS11_MODULE: module,
      TONEGUARD_PKCS11_TOKEN_LABEL: label,
      TONEGUARD_PKCS11_PIN: USER_PIN,
    }),
    initToken(label) {
      const result = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', '13579111'], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${result.stderr}`);
    },
  };
}
