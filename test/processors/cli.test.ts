import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, lastJsonLine } from '../helpers/cli.js';
import { processorKeyPairs } from './keys.js';

describe('toneguard processors enroll | list | revoke', () => {
  it('enrolls a processor with a client certificate from our CA, lists it, and revokes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-cli-'));
    const env = { TONEGUARD_DATA_DIR: dataDir };
    const jwkFile = join(dataDir, 'acme.jwks.json');
    writeFileSync(jwkFile, JSON.stringify((await processorKeyPairs('acme')).jwks));

    const enrolled = runCli(['processors', 'enroll', 'acme', '--jwk', jwkFile], { env });
    expect(enrolled.status).toBe(0);
    const out = lastJsonLine<{ certPath: string; keyPath: string; caPath: string; fingerprint256: string }>(enrolled.stdout);
    const cert = new X509Certificate(readFileSync(out.certPath));
    const ca = new X509Certificate(readFileSync(out.caPath));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.subject).toContain('CN=acme');
    expect(cert.fingerprint256).toBe(out.fingerprint256);
    expect(ca.ca).toBe(true);
    expect(statSync(out.keyPath).mode & 0o077).toBe(0);

    const listed = runCli(['processors', 'list'], { env });
    expect(lastJsonLine(listed.stdout)).toMatchObject({ name: 'acme', status: 'active', certFingerprint256: out.fingerprint256 });

    expect(runCli(['processors', 'revoke', 'acme'], { env }).status).toBe(0);
    expect(lastJsonLine(runCli(['processors', 'list'], { env }).stdout)).toMatchObject({ name: 'acme', status: 'revoked' });
    expect(runCli(['processors', 'revoke', 'acme'], { env }).status).toBe(1);
  });

  it('refuses a key file with private key material or without both key uses', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-cli-'));
    const env = { TONEGUARD_DATA_DIR: dataDir };
    const { jwks } = await processorKeyPairs('acme');
    const onlyEnc = join(dataDir, 'enc.json');
    writeFileSync(onlyEnc, JSON.stringify({ keys: [jwks.keys[0]] }));
    const result = runCli(['processors', 'enroll', 'acme', '--jwk', onlyEnc], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('"use":"sig"');
    const withPrivate = join(dataDir, 'private.json');
    writeFileSync(withPrivate, JSON.stringify({ keys: [{ ...jwks.keys[0], d: 'AAAA' }, jwks.keys[1]] }));
    expect(runCli(['processors', 'enroll', 'acme', '--jwk', withPrivate], { env }).stderr).toContain('private');
    expect(runCli(['processors', 'enroll', 'Bad Name', '--jwk', onlyEnc], { env }).status).toBe(2);
  });
});
