import express, { type RequestHandler, type Router } from 'express';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import type { DesktopSettings } from './contract.js';
import { devIssuerEnabled } from './dev-issuer.js';
import { simulatorOffered, type CallerSimulator } from './simulated-calls.js';

export type { DesktopSettings } from './contract.js';

/**
 * The built desktop (`npm run build` bundles the client and copies the page and styles there).
 * Resolved from the package root so that the same path works from `src/agent/` (tsx, vitest) and
 * from `dist/agent/` (the built image).
 */
export const DESKTOP_PUBLIC_DIR = fileURLToPath(new URL('../../dist/desktop/', import.meta.url));

export function desktopSettings(config: Config, simulator?: CallerSimulator): DesktopSettings {
  return {
    devTokens: devIssuerEnabled(config),
    embedOrigins: config.http.corsOrigins.map((o) => new URL(o).origin),
    ...(simulatorOffered(config, simulator) ? { simulator: { agentId: simulator.agentId } } : {}),
  };
}

/**
 * Lets the configured CRM origins frame the widget (or only our own origin when none are
 * configured): the global CSP's `frame-ancestors 'none'` is swapped for that list and
 * `X-Frame-Options`, which cannot express a list, is dropped. Everything else in the CSP stays.
 */
export function widgetFraming(embedOrigins: readonly string[]): RequestHandler {
  const ancestors = embedOrigins.length > 0 ? embedOrigins.join(' ') : "'self'";
  return (_req, res, next) => {
    const csp = String(res.getHeader('Content-Security-Policy') ?? '');
    const others = csp
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d !== '' && !d.startsWith('frame-ancestors'));
    res.setHeader('Content-Security-Policy', [...others, `frame-ancestors ${ancestors}`].join(';'));
    res.removeHeader('X-Frame-Options');
    next();
  };
}

/** The agent page is never framed: helmet's `SAMEORIGIN` tightened to match `frame-ancestors 'none'`. */
const noFraming: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Frame-Options', 'DENY');
  next();
};

/** Pages are small and change with each release: revalidate every time rather than cache stale script. */
const revalidate: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-cache');
  next();
};

/**
 * `GET /desktop/` (the agent page), `GET /desktop/widget` (the same page, which lays itself out as the
 * embeddable variant and may be framed by the CRM origins) and their assets.
 */
export function createDesktopRouter(config: Config, simulator?: CallerSimulator): Router {
  const router = express.Router({ strict: true });
  const settings = desktopSettings(config, simulator);
  const page = (file: string): RequestHandler => (_req, res) => res.sendFile(file, { root: DESKTOP_PUBLIC_DIR });

  router.get('/desktop', (_req, res) => res.redirect(301, '/desktop/'));
  router.get('/desktop/', revalidate, noFraming, page('index.html'));
  router.get('/desktop/widget', revalidate, widgetFraming(settings.embedOrigins), page('index.html'));
  router.get('/desktop/settings.json', revalidate, (_req, res) => {
    res.json(settings);
  });
  router.use('/desktop', revalidate, express.static(DESKTOP_PUBLIC_DIR, { index: false, redirect: false, fallthrough: true }));
  return router;
}
