import express, { type RequestHandler, type Router } from 'express';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { devIssuerEnabled } from './dev-issuer.js';

/**
 * The static desktop files. Resolved from the package root so that the same path works from
 * `src/agent/` (tsx, vitest) and from `dist/agent/` (the built image copies the folder beside `dist`).
 */
export const DESKTOP_PUBLIC_DIR = fileURLToPath(new URL('../../src/agent/desktop/public/', import.meta.url));

/** What the page script needs to know about this deployment; nothing secret. */
export interface DesktopSettings {
  /** Whether `POST /v1/dev/token` exists, so the page can offer the development sign-in. */
  devTokens: boolean;
  /** Origins whose pages may embed the widget and hand it a token by `postMessage`. */
  embedOrigins: string[];
}

export function desktopSettings(config: Config): DesktopSettings {
  return { devTokens: devIssuerEnabled(config), embedOrigins: config.http.corsOrigins.map((o) => new URL(o).origin) };
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
export function createDesktopRouter(config: Config): Router {
  const router = express.Router({ strict: true });
  const settings = desktopSettings(config);
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
