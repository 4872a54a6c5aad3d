import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/index.js';
import type { Metrics } from '../audit/metrics.js';
import { MINUTE, sourceKey, WindowCounter } from './rate-limit.js';

/** Given to an upgrade handler with its socket. */
export interface UpgradeAdmission {
  /** The peer proved who it is (a valid token, an accepted `start`): its socket leaves the unauthenticated caps. */
  authenticated(): void;
}

/** Handles a WebSocket upgrade for one path; it owns the socket from then on. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, admission: UpgradeAdmission) => void;

export type UpgradeLimits = Pick<Config['http'], 'upgradesPerMinutePerIp' | 'maxUnauthenticatedSockets' | 'maxUnauthenticatedSocketsPerIp'>;

/** Refuses an upgrade with a plain HTTP status line, then closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** Sockets upgraded but not yet authenticated, in all and per source. */
class UnauthenticatedSockets {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(
    private readonly limits: UpgradeLimits,
    private readonly onChange: (total: number) => void,
  ) {}

  /** Which cap is reached, or the release function (idempotent). */
  admit(source: string): 'all' | 'source' | (() => void) {
    const fromSource = this.bySource.get(source) ?? 0;
    if (this.total >= this.limits.maxUnauthenticatedSockets) return 'all';
    if (fromSource >= this.limits.maxUnauthenticatedSocketsPerIp) return 'source';
    this.total += 1;
    this.bySource.set(source, fromSource + 1);
    this.onChange(this.total);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.total -= 1;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left === 0) this.bySource.delete(source);
      else this.bySource.set(source, left);
      this.onChange(this.total);
    };
  }
}

/**
 * Routes upgrades by exact pathname (the query string is ignored). Before any handler runs, and
 * so before anything is logged or audited, each source address gets `upgradesPerMinutePerIp`
 * (429 beyond), and sockets that have not authenticated yet are capped in all and per source
 * (503 / 429). A handler calls `admission.authenticated()` once its peer has proved who it is.
 */
export function upgradeRouter(routes: Map<string, UpgradeHandler>, limits: UpgradeLimits, metrics: Metrics): UpgradeHandler {
  const attempts = new WindowCounter(MINUTE);
  const unauthenticated = new UnauthenticatedSockets(limits, (total) => metrics.unauthenticatedSockets.set(total));
  const refuse = (socket: Duplex, status: number, reason: string, metricReason: string) => {
    metrics.upgradesRefused.labels(metricReason).inc();
    refuseUpgrade(socket, status, reason);
  };
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const source = sourceKey(req.socket.remoteAddress);
    if (attempts.add(source) > limits.upgradesPerMinutePerIp) return refuse(socket, 429, 'Too Many Requests', 'rate_limited');
    const handler = routes.get((req.url ?? '/').split('?')[0]);
    if (!handler) return refuse(socket, 404, 'Not Found', 'not_found');
    const release = unauthenticated.admit(source);
    if (release === 'all') return refuse(socket, 503, 'Service Unavailable', 'unauthenticated_cap');
    if (release === 'source') return refuse(socket, 429, 'Too Many Requests', 'unauthenticated_cap_source');
    socket.once('close', release);
    handler(req, socket, head, { authenticated: release });
  };
}
