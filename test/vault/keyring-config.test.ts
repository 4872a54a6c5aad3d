import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { kekProblems } from '../../src/config/kek-problems.js';
import { redactConfig } from '../../src/config/redacted-view.js';
import { tempDir } from './helpers.js';

const pkcs11 = (settings: Record<string, unknown>, vault: Record<string, unknown> = {}) =>
  parseConfig({ vault: { ...vault, kek: { provider: 'pkcs11', pkcs11: settings } } });

describe('KEK provider settings', () => {
  it('come from TONEGUARD_KEK_PROVIDER and TONEGUARD_PKCS11_*, and the redacted view never shows the PIN', () => {
    const config = loadConfig({
      env: {
        TONEGUARD_KEK_PROVIDER: 'pkcs11',
        TONEGUARD_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
        TONEGUARD_PKCS11_TOKEN_LABEL: 'toneguard',
        TONEGUARD_PKCS11_PIN: '246810',
        TONEGUARD_PKCS11_KEY_LABEL: 'payments-kek',
      },
    });
    expect(config.vault.kek).toEqual({
      provider: 'pkcs11',
      pollMs: 5000,
      pkcs11: { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'toneguard', pin: '246810', pinFile: null, keyLabel: 'payments-kek' },
    });
    expect(JSON.stringify(redactConfig(config).config)).not.toContain('246810');
    expect(() => parseConfig({ vault: { kek: { provider: 'vault' } } })).toThrow(/vault\.kek\.provider/);
  });

  it('default to what they were: keys from vault.keks or vault.kekFile, checked as before', () => {
    expect(parseConfig({}).vault.kek.provider).toBeNull();
    expect(kekProblems(parseConfig({}))).toEqual([expect.stringMatching(/TONEGUARD_KEKS \/ TONEGUARD_KEK_FILE/)]);
    expect(kekProblems(parseConfig({ vault: { keks: ['1:x'] } }))).toEqual([]);
    expect(kekProblems(parseConfig({ vault: { kek: { provider: 'env' } } }))).toEqual([expect.stringMatching(/TONEGUARD_KEKS/)]);
    expect(kekProblems(parseConfig({ vault: { kek: { provider: 'file' }, kekFile: '/nonexistent/keks' } }))).toEqual([expect.stringMatching(/does not exist/)]);
  });

  it('for pkcs11 in production: a real module, a token label, exactly one PIN source, and no software KEKs beside it', () => {
    const dir = tempDir();
    const module = join(dir, 'libvendor.so');
    const pinFile = join(dir, 'pin');
    writeFileSync(module, '');
    writeFileSync(pinFile, '246810\n');
    expect(kekProblems(pkcs11({ module, tokenLabel: 'toneguard', pinFile }))).toEqual([]);
    expect(kekProblems(pkcs11({}))).toEqual([
      expect.stringMatching(/TONEGUARD_PKCS11_MODULE\) is missing/),
      expect.stringMatching(/TONEGUARD_PKCS11_TOKEN_LABEL\) is missing/),
      expect.stringMatching(/TONEGUARD_PKCS11_PIN_FILE\) is missing/),
    ]);
    const problems = kekProblems(pkcs11({ module: join(dir, 'missing.so'), tokenLabel: 't', pin: '246810', pinFile }, { keks: ['1:x'] }));
    expect(problems).toEqual([
      expect.stringMatching(/names a library that does not exist/),
      expect.stringMatching(/both set/),
      expect.stringMatching(/vault.keks \/ vault.kekFile are set/),
    ]);
    expect(problems.join(' ')).not.toContain('246810');
    expect(kekProblems(pkcs11({ module, tokenLabel: 't', pinFile: join(dir, 'no-pin') }))).toEqual([expect.stringMatching(/PIN_FILE\) names a file that does not exist/)]);
  });
});
