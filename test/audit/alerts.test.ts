import { mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { flattenedVerify, importJWK, type FlattenedJWS } from 'jose';
import { Alerter } from '../../src/audit/alerts.js';
import { Metrics } from '../../src/audit/metrics.js';
import { ServiceSigningKey, getServiceJwks, serviceKeyPath } from '../../src/audit/service-key.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { createLogger } from '../../src/audit/logger.js';

interface Received {
  contentType: string | undefined;
  body: FlattenedJWS;
}

async function receiver(status = 204) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: JSON.parse(data) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function setup(webhookUrl: string | null) {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
  const metrics = new Metrics();
  const audit = new MemoryAuditSink();
  const signer = ServiceSigningKey.generate();
  return { lines, metrics, audit, signer, alerter: new Alerter({ logger, metrics, audit, webhookUrl, signer }) };
}

describe('alerts', () => {
  it('go to the log, the metric, the audit trail and a JWS-signed webhook', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const { lines, metrics, audit, signer, alerter } = setup(hook.url);
    alerter.raise({ rule: 'detokenize_burst', message: 'burst', subject: 'acme', count: 61, threshold: 60 });
    await alerter.idle();

    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, alert: { rule: 'detokenize_burst', subject: 'acme' } });
    expect(await metrics.render()).toMatch(/toneguard_alerts_total\{rule="detokenize_burst"\} 1/);
    expect(audit.events).toEqual([expect.objectContaining({ action: 'alert.raised', details: expect.objectContaining({ rule: 'detokenize_burst', count: 61 }) })]);

    expect(hook.received).toHaveLength(1);
    expect(hook.received[0].contentType).toBe('application/jose+json');
    const [jwk] = getServiceJwks(signer).keys;
    expect(jwk).not.toHaveProperty('d');
    const verified = await flattenedVerify(hook.received[0].body, await importJWK(jwk, 'ES256'));
    expect(verified.protectedHeader).toMatchObject({ alg: 'ES256', kid: signer.kid });
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toMatchObject({ rule: 'detokenize_burst', subject: 'acme', count: 61, service: 'toneguard' });
  });

  it('a tampered webhook body does not verify', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const { signer, alerter } = setup(hook.url);
    alerter.raise({ rule: 'card_testing', message: 'x' });
    await alerter.idle();
    const body = hook.received[0].body;
    const forged = { ...body, payload: Buffer.from(JSON.stringify({ rule: 'nothing' })).toString('base64url') };
    await expect(flattenedVerify(forged, await importJWK(signer.publicJwk, 'ES256'))).rejects.toThrow();
    await expect(flattenedVerify(body, await importJWK(ServiceSigningKey.generate().publicJwk, 'ES256'))).rejects.toThrow();
  });

  it('a failing webhook is logged, and the alert still lands everywhere else', async () => {
    const hook = await receiver(500);
    closers.push(hook.close);
    const { lines, audit, alerter } = setup(hook.url);
    alerter.raise({ rule: 'signature_failures', message: 'x' });
    await alerter.idle();
    expect(audit.events).toHaveLength(1);
    expect(lines.some((l) => l.includes('alert webhook refused'))).toBe(true);
  });

  it('without a webhook, only log, metric and trail', async () => {
    const { audit, alerter } = setup(null);
    alerter.raise({ rule: 'captures_per_agent', message: 'x' });
    await alerter.idle();
    expect(audit.events).toHaveLength(1);
  });
});

describe('service signing key', () => {
  it('persists under the data directory, private file, public JWKS without the private part', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-key-'));
    const first = ServiceSigningKey.loadOrCreate(dataDir);
    const again = ServiceSigningKey.loadOrCreate(dataDir);
    expect(again.kid).toBe(first.kid);
    expect(statSync(serviceKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(getServiceJwks(first)).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: first.kid, alg: 'ES256', use: 'sig' }] });
  });
});
