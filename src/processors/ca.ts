import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  fingerprint256: string;
  serial: string;
}

const CA_DAYS = 3650;

/**
 * Toneguard's small CA for processor client certificates, created under the data dir on first use.
 * node-forge is used only to build and sign certificates (node:crypto cannot); keys come from
 * node:crypto, and verification stays with Node's TLS stack.
 */
export class ProcessorCa {
  readonly certPath: string;
  private readonly keyPath: string;

  constructor(readonly dir: string) {
    this.certPath = join(dir, 'ca.crt');
    this.keyPath = join(dir, 'ca.key');
  }

  exists(): boolean {
    return existsSync(this.certPath) && existsSync(this.keyPath);
  }

  /** The CA certificate (PEM), creating the CA if it does not exist yet. */
  certificate(): string {
    this.ensure();
    return readFileSync(this.certPath, 'utf8');
  }

  /** A client certificate (TLS client auth) for `name`, with a fresh RSA key. */
  issueClientCertificate(name: string, days = 365): IssuedCertificate {
    this.ensure();
    const caCert = forge.pki.certificateFromPem(readFileSync(this.certPath, 'utf8'));
    const caKey = forge.pki.privateKeyFromPem(readFileSync(this.keyPath, 'utf8'));
    const { publicPem, privatePem } = rsaKeyPair();
    const cert = buildCertificate(publicPem, [{ name: 'commonName', value: name }, { name: 'organizationalUnitName', value: 'toneguard processor' }], days);
    cert.setIssuer(caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    const certPem = forge.pki.certificateToPem(cert);
    const x509 = new X509Certificate(certPem);
    return { certPem, keyPem: privatePem, fingerprint256: x509.fingerprint256, serial: x509.serialNumber };
  }

  private ensure(): void {
    if (this.exists()) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const { publicPem, privatePem } = rsaKeyPair();
    const subject = [{ name: 'commonName', value: 'Toneguard processor CA' }];
    const cert = buildCertificate(publicPem, subject, CA_DAYS);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    cert.sign(forge.pki.privateKeyFromPem(privatePem), forge.md.sha256.create());
    writeFileSync(this.keyPath, privatePem, { mode: 0o600 });
    writeFileSync(this.certPath, forge.pki.certificateToPem(cert), { mode: 0o644 });
  }
}

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

function buildCertificate(publicPem: string, subject: forge.pki.CertificateField[], days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // A positive serial: clear the top bit of 16 random bytes.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject(subject);
  return cert;
}
