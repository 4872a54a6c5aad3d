import express, { type Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { sendError } from '../http/errors.js';
import { actorOf, authenticate, deny403, principalOf, requireRole, type TokenVerifier } from './auth.js';
import { openAuditReader } from '../audit/reader.js';
import { redactConfig } from '../config/redacted-view.js';
import { INCIDENT_ACTIONS } from '../incident/actions.js';
import { incidentDetails } from '../incident/state.js';
import { readEvidenceSummary } from '../evidence/summary.js';
import { EVIDENCE_PATH, EVIDENCE_ROLES } from './contract.js';

const AUDIT_PAGE_MAX = 1000;
const AUDIT_PAGE_DEFAULT = 100;

const auditQuery = z.strictObject({
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.int().min(1).max(AUDIT_PAGE_MAX)).optional(),
  after: z
    .union([
      z.string().regex(/^\d{1,15}$/).transform((v) => ({ seq: Number(v) })),
      z.iso.datetime({ offset: true }).transform((v) => ({ time: new Date(v) })),
    ])
    .optional(),
});

/**
 * Routes for the roles that never touch a call: `admin` reads the effective configuration
 * without its secrets and pulls the incident switch (with MFA, whatever `auth.mfaRoles` says);
 * `auditor` exports and verifies the audit trail (read-only; in cluster mode the PostgreSQL chain
 * every node shares); both read the latest evidence summary. Each call is itself audited.
 */
export function createAdminRouter(ctx: AppContext, verifier: TokenVerifier): Router {
  const router = express.Router();
  const auth = authenticate(verifier, ctx.audit);
  const admins = requireRole(ctx.audit, 'admin');
  const auditors = requireRole(ctx.audit, 'auditor');
  const auditReader = openAuditReader(ctx.config);
  ctx.onShutdown(() => auditReader.close(), 'audit-reader');

  router.get('/v1/admin/config', auth, admins, (req, res) => {
    const view = redactConfig(ctx.config);
    ctx.audit.record({ action: 'config.read', actor: actorOf(principalOf(res), req.ip), outcome: 'success', details: { removed: view.removed.length } });
    res.json(view);
  });

  const withMfa: express.RequestHandler = (req, res, next) => {
    if (principalOf(res).mfa) return next();
    deny403(res, ctx.audit, 'mfa_required', { type: 'route', id: `${req.method} ${req.path}` });
  };
  router.get('/v1/admin/incident', auth, admins, (_req, res) => {
    res.json(incidentDetails(ctx.incident));
  });
  for (const action of INCIDENT_ACTIONS) {
    router.post(`/v1/admin/incident/${action}`, auth, admins, withMfa, async (req, res) => {
      const state = await ctx.incident.apply(action, actorOf(principalOf(res), req.ip));
      res.json(incidentDetails(state));
    });
  }

  router.get('/v1/audit', auth, auditors, async (req, res) => {
    const parsed = auditQuery.safeParse(req.query);
    if (!parsed.success) return sendError(res, 422, 'invalid_request', `limit must be 1-${AUDIT_PAGE_MAX}; after a record seq or an ISO 8601 time`);
    const { limit = AUDIT_PAGE_DEFAULT, after } = parsed.data;
    const records = await auditReader.page({ limit, ...(after ? { after } : {}) });
    const last = records[records.length - 1];
    ctx.audit.record({ action: 'audit.exported', actor: actorOf(principalOf(res), req.ip), outcome: 'success', details: { count: records.length, firstSeq: records[0]?.seq ?? null, lastSeq: last?.seq ?? null } });
    res.json({ records, next: last ? String(last.seq) : null });
  });

  router.get('/v1/audit/verify', auth, auditors, async (req, res) => {
    const result = await auditReader.verify();
    ctx.audit.record({ action: 'audit.verified', actor: actorOf(principalOf(res), req.ip), outcome: result.ok ? 'success' : 'failure', details: { ok: result.ok } });
    res.json(result);
  });

  router.get(EVIDENCE_PATH, auth, requireRole(ctx.audit, ...EVIDENCE_ROLES), (req, res) => {
    const summary = readEvidenceSummary(ctx.config.dataDir);
    ctx.audit.record({ action: 'evidence.read', actor: actorOf(principalOf(res), req.ip), outcome: summary ? 'success' : 'failure', details: { found: summary !== null } });
    if (!summary) return sendError(res, 404, 'evidence_not_found', 'no evidence report yet: run toneguard evidence --out DIR');
    res.json(summary);
  });

  return router;
}
