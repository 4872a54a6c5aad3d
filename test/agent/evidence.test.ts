import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { EvidenceSummary } from '../../src/agent/contract.js';
import { collectEvidence } from '../../src/evidence/collect.js';
import { evidenceSummaryPath, summarizeEvidence, writeEvidenceSummary } from '../../src/evidence/summary.js';
import { startAgentApi, type AgentApi } from './fixtures.js';

let api: AgentApi;
beforeAll(async () => {
  api = await startAgentApi();
});
afterAll(() => api.close());

const getEvidence = async (sub: string, role: string) => request(api.server.url).get('/v1/evidence').set('authorization', await api.bearer(sub, role));

describe('GET /v1/evidence: the latest evidence summary for auditors and admins', () => {
  it('404 evidence_not_found before toneguard evidence ran; the read is audited', async () => {
    const before = api.lastSeq();
    const res = await getEvidence('aud', 'auditor');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('evidence_not_found');
    expect(api.auditSince(before)).toEqual([expect.objectContaining({ action: 'evidence.read', outcome: 'failure', actor: expect.objectContaining({ id: 'aud' }), details: { found: false } })]);
  });

  it('200 with the summary the evidence run wrote into the data directory (0600), for auditor and admin only', async () => {
    const config = api.server.context.config;
    const summary = summarizeEvidence(await collectEvidence(config, { recordingSample: 1 }));
    const path = writeEvidenceSummary(config.dataDir, summary);
    expect(path).toBe(evidenceSummaryPath(api.server.dataDir));
    expect(statSync(path).mode & 0o777).toBe(0o600);

    for (const [sub, role] of [['aud', 'auditor'], ['ada', 'admin']]) {
      const before = api.lastSeq();
      const res = await getEvidence(sub, role);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual(summary);
      expect(api.auditSince(before)).toEqual([expect.objectContaining({ action: 'evidence.read', outcome: 'success', details: { found: true } })]);
    }
    const body: EvidenceSummary = JSON.parse(readFileSync(path, 'utf8'));
    expect(body.battery.checks.length).toBeGreaterThanOrEqual(4);
    expect(body.battery.checks.every((c) => c.pass)).toBe(true);
    // The test server's trail holds records and its key is configured: the chain verifies.
    expect(body.audit).toMatchObject({ verified: true });
    expect(body.audit.records).toBeGreaterThan(0);
    expect(body.config.checksFailed).toBeGreaterThan(0); // a development configuration fails production checks
    expect(body.config.fingerprint).toMatch(/\S{8,}/);
    expect(body.recordings).toEqual({ total: 0, sampled: 0, verified: 0 });
    // Verdicts and counts only: no path of the data directory, no card digits, no secret.
    expect(JSON.stringify(body)).not.toMatch(new RegExp(`${api.server.dataDir}|4111|authToken|hmac`, 'i'));

    for (const [sub, role] of [['alice', 'agent'], ['sue', 'supervisor'], ['pat', 'processor'], ['nobody', 'guest']]) {
      const res = await getEvidence(sub, role);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect((await request(api.server.url).get('/v1/evidence')).status).toBe(401);
  }, 60_000);

  it('a damaged summary is a 500 evidence_unreadable, and the service keeps answering', async () => {
    writeFileSync(evidenceSummaryPath(api.server.dataDir), '{"pass": tru');
    const res = await getEvidence('aud', 'auditor');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('evidence_unreadable');
    expect((await request(api.server.url).get('/v1/me').set('authorization', await api.bearer('aud', 'auditor'))).status).toBe(200);
  });
});
