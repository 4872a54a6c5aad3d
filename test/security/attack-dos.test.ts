import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { MAX_LINE_CHARS } from '../../src/audit/logger.js';
import { listTrailFiles, readTrailLines } from '../../src/audit/trail-files.js';
import { verifyChain } from '../../src/audit/verify.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import { readAuditRecords, startTestServer, TEST_AUTH_TOKEN, type TestServer } from '../helpers/server.js';
import { signTwilio, silence, startTwilioTestBed, syntheticSpeech, waitFor, type TwilioTestBed } from '../helpers/twilio.js';

/**
 * The denial-of-service attacks of issue 12 (items 4, 5 and 7), each replayed against a real
 * running service over real sockets, so that each stays closed.
 */

let server: TestServer | undefined;
let bed: TwilioTestBed | undefined;
afterEach(async () => {
  await server?.close();
  await bed?.close();
  server = undefined;
  bed = undefined;
});

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
}

/** Runs `task` for 0..count-1, at most `width` at a time. */
async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** A raw WebSocket upgrade request; resolves with the HTTP status the server answered. */
function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.once('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`),
    );
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.once('error', reject);
  });
}

function trailBytes(dataDir: string): number {
  return listTrailFiles(join(dataDir, 'audit')).reduce((n, f) => n + statSync(f.path).size, 0);
}

/** How many refusals the records stand for: a coalesced record carries its `count`. */
const represented = (records: AuditRecord[]) => records.reduce((n, r) => n + (r.details?.coalesced === true ? Number(r.details.count) : 1), 0);

describe('item 4: long card-like paths cannot load the logger', () => {
  it('400 requests with 15 KB paths: rate-limited before logging, unmatched paths logged as their route pattern, lines capped', async () => {
    server = await startTestServer({ http: { requestsPerMinutePerIp: 100 } });
    const path = `/x${'/4111111111111111'.repeat(890)}`;
    expect(path.length).toBeGreaterThan(15_000);
    const statuses = await inParallel(400, 16, async () => (await fetch(server!.url + path)).status);
    expect(statuses.filter((s) => s === 404)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300);

    const access = server.logLines.filter((l) => l.includes('"msg":"http"'));
    expect(access).toHaveLength(100);
    expect(access.every((l) => JSON.parse(l).route === 'unmatched' && !('path' in JSON.parse(l)))).toBe(true);
    expect(server.logLines.every((l) => l.length <= MAX_LINE_CHARS)).toBe(true);
    expect(server.logLines.join('')).not.toContain('4111111111111111');
    expect(await metric(server.url, /^toneguard_http_rate_limited_total (\d+)/gm)).toBe(300);
    // Nothing card-like reached the scrubber, so the attack cannot raise scrubber alerts at will either.
    expect(await metric(server.url, /^toneguard_log_scrubber_hits_total (\d+)/gm)).toBe(0);
  });
});

describe('item 5: forged upgrades cannot amplify into the audit trail', () => {
  it('1,000 forged media upgrades: 429 before any write beyond the per-source limit, and a small coalesced trail', async () => {
    server = await startTestServer({ http: { upgradesPerMinutePerIp: 50 }, audit: { failureBurst: 10 } });
    const before = trailBytes(server.dataDir);
    const statuses = await inParallel(1000, 25, () => rawUpgrade(server!.port, '/media/twilio', { 'x-twilio-signature': 'Zm9yZ2Vk' }));
    expect(statuses.filter((s) => s === 403)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(950);
    const grown = trailBytes(server.dataDir) - before;
    // Ten records one by one; the other forty wait for the window's end as one record.
    expect(grown).toBeLessThan(8 * 1024);
    expect(await metric(server.url, /^toneguard_upgrades_refused_total\{reason="rate_limited"\} (\d+)/gm)).toBe(950);

    const { dataDir } = server;
    await server.close();
    server = undefined;
    const refusals = readAuditRecords(dataDir).filter((r) => r.action === 'twilio.signature_failed');
    expect(refusals.length).toBe(11);
    expect(refusals.at(-1)?.details).toMatchObject({ coalesced: true, count: 40, reason: 'invalid' });
    expect(represented(refusals)).toBe(50);
    expect(trailBytes(dataDir) - before).toBeLessThan(12 * 1024);
  });

  it('caps sockets that have not authenticated, per source and in all; an authenticated one frees its slot', async () => {
    server = await startTestServer({ http: { maxUnauthenticatedSocketsPerIp: 3, maxUnauthenticatedSockets: 5 }, events: { authTimeoutMs: 60_000 } });
    const wsUrl = server.url.replace(/^http/, 'ws');
    const open = (path: string, localAddress: string, headers: Record<string, string> = {}) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsUrl + path, path === '/v1/events' ? ['toneguard.v1'] : [], { localAddress, headers });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
        ws.once('error', reject);
      });
    const signed = { 'x-twilio-signature': signTwilio(TEST_AUTH_TOKEN, 'wss://toneguard.test/media/twilio', {}) };
    const sockets: WebSocket[] = [];
    try {
      // A media stream that never sends `start` counts like an events socket that never authenticates.
      sockets.push(await open('/media/twilio', '127.0.0.1', signed), await open('/v1/events', '127.0.0.1'), await open('/v1/events', '127.0.0.1'));
      await expect(open('/v1/events', '127.0.0.1')).rejects.toThrow('refused 429');
      sockets.push(await open('/v1/events', '127.0.0.2'), await open('/v1/events', '127.0.0.2'));
      await expect(open('/v1/events', '127.0.0.3')).rejects.toThrow('refused 503');
      expect(await metric(server.url, /^toneguard_unauthenticated_sockets (\d+)/gm)).toBe(5);

      const token = await mintDevToken(server.context.config, { sub: 'sup', role: 'supervisor' });
      const ready = new Promise((resolve) => sockets[1].on('message', (data) => JSON.parse(data.toString()).type === 'ready' && resolve(true)));
      sockets[1].send(JSON.stringify({ type: 'auth', token }));
      await ready;
      sockets.push(await open('/v1/events', '127.0.0.3'));
      expect(await metric(server.url, /^toneguard_upgrades_refused_total\{reason="unauthenticated_cap\w*"\} (\d+)/gm)).toBe(2);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });
});

/** A small real tmpfs as the whole data directory needs root (mount); test/audit/trail.test.ts injects failing writes instead. */
function mountTmpfs(): { dir: string; unmount: () => void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-fulldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes until the file system is full; returns the filler's path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 0x20);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

const tmpfs = mountTmpfs();
tmpfs?.unmount();

describe.skipIf(!tmpfs)('item 5: a full disk (real tmpfs, slow, real service)', () => {
  it('captures refuse with 503 audit_unavailable, the process stays up, a live call keeps flowing, and it recovers', async () => {
    const disk = mountTmpfs()!;
    try {
      bed = await startTwilioTestBed({ dataDir: disk.dir });
      const { server: s } = bed;
      const call = await bed.dial();
      await waitFor(() => s.context.calls.get(call.callSid)?.state === 'bridged');
      const filler = fillDisk(disk.dir);
      // The trail's last page may still have room for a record or two; write until it fails.
      for (let i = 0; i < 100 && s.context.audit.available?.() !== false; i++) {
        s.context.audit.record({ action: 'test.padding', actor: { type: 'system', id: 'test' }, outcome: 'success' });
      }
      expect(s.context.audit.available?.()).toBe(false);
      expect(await metric(s.url, /^toneguard_audit_trail_available (\d+)/gm)).toBe(0);
      expect(s.logLines.some((l) => l.includes('"level":50') && l.includes('ENOSPC') && l.includes('audit_unavailable'))).toBe(true);

      const bearer = `Bearer ${await mintDevToken(s.context.config, { sub: 'agent', role: 'agent' })}`;
      const start = (callSid: string) => fetch(`${s.url}/v1/calls/${callSid}/captures`, { method: 'POST', headers: { authorization: bearer, 'content-type': 'application/json' }, body: JSON.stringify({ fields: ['card_number'] }) });
      const refused = await start(call.callSid);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('audit_unavailable');
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);

      const before = call.agent.received.length;
      await Promise.all([call.callerPlays(syntheticSpeech(3000), 4), call.agentPlays(silence(3000), 4)]);
      await waitFor(() => call.agent.received.length >= before + 140);
      // The call ends while the disk is still full, so its recording's last write meets it whenever
      // its chunks fell before (a G.711 batch is up to four seconds): the recording stops and says
      // so; it never took the process down.
      await call.hangUp();
      await waitFor(() => s.logLines.some((l) => l.includes('recording could not be completed') && l.includes('ENOSPC')), 5_000);

      rmSync(filler);
      await waitFor(() => s.context.audit.available?.() === true, 5_000);
      expect(await metric(s.url, /^toneguard_audit_trail_available (\d+)/gm)).toBe(1);
      const next = await bed.dial();
      await waitFor(() => s.context.calls.get(next.callSid)?.state === 'bridged');
      expect((await start(next.callSid)).status).toBe(201);
      await next.hangUp();
      await bed.close();
      bed = undefined;

      const files = listTrailFiles(join(disk.dir, 'audit')).map((f) => f.path);
      const records = files.flatMap((f) => readTrailLines(f).map((line) => JSON.parse(line) as AuditRecord));
      const outage = records.find((r) => r.action === 'audit.write_failed');
      expect(outage?.details).toMatchObject({ code: 'ENOSPC' });
      expect(records.filter((r) => r.action === 'test.padding').length).toBeGreaterThan(0);
      expect(records.some((r) => r.action === 'capture.started')).toBe(true);
      const key = Buffer.from(readFileSync(join(disk.dir, 'keys', 'audit-hmac.key'), 'utf8'), 'base64');
      expect(verifyChain(key, files).ok).toBe(true);
    } finally {
      // Unmount even when closing fails, so that a failed run leaves no mount behind.
      await bed?.close().catch(() => undefined);
      bed = undefined;
      disk.unmount();
    }
  });
});

describe('item 7: failed Generic Pay Connector logins', () => {
  it('are audited (coalesced), counted, logged and backed off per source with 429, without slowing anything down', async () => {
    server = await startTestServer({ connector: { username: 'twilio-connector', password: 'connector-password-0123', failedLoginsPerMinutePerIp: 5 }, audit: { failureBurst: 3 } });
    const post = (auth: string) => fetch(`${server!.url}/connectors/twilio-pay`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{}' });
    const wrong = `Basic ${Buffer.from('twilio-connector:guess').toString('base64')}`;
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await post(wrong)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    const blocked = await post(`Basic ${Buffer.from('twilio-connector:connector-password-0123').toString('base64')}`);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await metric(server.url, /^toneguard_login_failures_total\{endpoint="connector",outcome="refused"\} (\d+)/gm)).toBe(5);
    expect(await metric(server.url, /^toneguard_login_failures_total\{endpoint="connector",outcome="blocked"\} (\d+)/gm)).toBe(16);
    expect(server.logLines.some((l) => l.includes('this source is refused'))).toBe(true);
    expect(server.logLines.join('')).not.toContain('guess');

    const { dataDir } = server;
    await server.close();
    server = undefined;
    const failures = readAuditRecords(dataDir).filter((r) => r.action === 'connector.auth_failed');
    const byReason = (reason: string) => failures.filter((r) => r.details?.reason === reason);
    // Three of each reason one by one, the rest folded into one record with a count.
    expect(byReason('wrong_credentials')).toHaveLength(4);
    expect(represented(byReason('wrong_credentials'))).toBe(5);
    expect(byReason('backoff')).toHaveLength(4);
    expect(represented(byReason('backoff'))).toBe(16);
    expect(failures.every((r) => r.source === '127.0.0.1' || r.source === '::ffff:127.0.0.1')).toBe(true);
  });
});
