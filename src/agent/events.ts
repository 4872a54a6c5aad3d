import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { refuseUpgrade, type UpgradeAdmission, type UpgradeHandler } from '../http/upgrade.js';
import { createMessageRateLimiter, wsServerOptions } from '../http/ws.js';
import { actorOf, AuthError, denialReason, isRevoked, type Principal, type TokenVerifier } from './auth.js';
import { EVENTS_CLOSE, EVENTS_SUBPROTOCOL, type AgentEvent } from './contract.js';
import { createEventsHub } from './events-hub.js';
import { WATCHER_ROLES, watchesCaptures } from './visibility.js';

export { EVENTS_CLOSE, EVENTS_PATH, EVENTS_SUBPROTOCOL } from './contract.js';

/** The JWT may ride in `Sec-WebSocket-Protocol` as `bearer.<jwt>`, since browsers cannot set headers on a WebSocket. */
const BEARER_PREFIX = 'bearer.';

/** setTimeout's ceiling (about 24.8 days); a token valid longer than that is cut off there. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const clientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), token: z.string().min(1).max(16_384) }),
  z.strictObject({ type: z.literal('ping') }),
]);

type EventsContext = Pick<AppContext, 'config' | 'audit' | 'metrics' | 'captureViews' | 'calls' | 'logger' | 'incident'>;

interface Client {
  ws: WebSocket;
  alive: boolean;
  authenticated: boolean;
  /** Closes the socket as unauthenticated (EVENTS_CLOSE.unauthenticated), audited, once its session is revoked. */
  revoke?: (revokedBefore: number | null) => void;
}

/**
 * `WS /v1/events`: the agent desktop's live channel. The JWT comes in the subprotocol list or the
 * first message, never the URL (which ends up in proxy logs). After authentication the client gets
 * its current state, then every change it may see, and a heartbeat. A client that cannot keep up
 * is dropped rather than buffered without bound, so a stuck desktop never holds up a capture.
 */
export function eventsEndpoint(ctx: EventsContext, verifier: TokenVerifier): { upgrade: UpgradeHandler; close: () => void } {
  const settings = ctx.config.events;
  const hub = createEventsHub(ctx.captureViews, ctx.calls);
  const wss = new WebSocketServer({
    ...wsServerOptions(ctx.config),
    handleProtocols: (offered) => (offered.has(EVENTS_SUBPROTOCOL) ? EVENTS_SUBPROTOCOL : false),
  });
  const clients = new Set<Client>();

  const heartbeat = setInterval(() => {
    const beat = JSON.stringify({ type: 'heartbeat', at: new Date().toISOString() } satisfies AgentEvent);
    for (const client of clients) {
      if (!client.alive) {
        drop(client, 'no_pong');
        continue;
      }
      client.alive = false;
      client.ws.ping();
      if (client.authenticated) send(client, beat);
    }
  }, settings.heartbeatMs);
  heartbeat.unref();
  const stopFollowingIncident = ctx.incident.onChange((state) => {
    for (const client of clients) client.revoke?.(state.revokedBefore);
  });

  function drop(client: Client, reason: 'no_pong' | 'too_slow'): void {
    ctx.metrics.eventClientsDropped.labels(reason).inc();
    if (reason === 'no_pong') return client.ws.terminate();
    client.ws.close(EVENTS_CLOSE.tooSlow, 'client too slow');
    // A slow peer may never read the close frame; do not wait for it.
    setTimeout(() => client.ws.terminate(), 1000).unref();
  }

  function send(client: Client, json: string): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount > settings.maxBufferedBytes) return drop(client, 'too_slow');
    client.ws.send(json);
  }

  function run(ws: WebSocket, req: IncomingMessage, admission: UpgradeAdmission): void {
    const source = req.socket.remoteAddress;
    const client: Client = { ws, alive: true, authenticated: false };
    const limiter = createMessageRateLimiter(settings.maxMessagesPerSecond);
    let verifying = false;
    let unsubscribe: (() => void) | undefined;
    clients.add(client);
    ws.on('pong', () => (client.alive = true));
    // ws has already sent its close frame (1009 for an oversized message): cutting the connection
    // at once would reset it with the client's unread bytes pending, and the client would see 1006
    // instead. A peer that never finishes the close is cut a second later.
    ws.on('error', () => setTimeout(() => ws.terminate(), 1000).unref());
    let expiryTimer: NodeJS.Timeout | undefined;
    ws.on('close', () => {
      clearTimeout(authTimer);
      clearTimeout(expiryTimer);
      clients.delete(client);
      if (unsubscribe) {
        unsubscribe();
        ctx.metrics.eventClients.dec();
      }
    });

    const authTimer = setTimeout(() => refuse('auth_timeout'), settings.authTimeoutMs);

    function refuse(reason: string, principal?: Principal): void {
      const actor = principal ? actorOf(principal, source) : { type: 'agent' as const, id: 'unknown' };
      ctx.audit.record({ action: 'auth.failed', actor, outcome: 'failure', ...(source ? { source } : {}), details: { reason, channel: 'events' } });
      ws.close(EVENTS_CLOSE.unauthenticated, 'authentication failed');
    }

    function admit(principal: Principal): void {
      if (ws.readyState !== ws.OPEN) return;
      if (!watchesCaptures(principal)) {
        const reason = denialReason(principal, WATCHER_ROLES, 'role');
        ctx.audit.record({ action: 'auth.denied', actor: actorOf(principal, source), outcome: 'denied', details: { reason, channel: 'events' } });
        ws.close(EVENTS_CLOSE.forbidden, 'this identity may not watch captures');
        return;
      }
      client.authenticated = true;
      client.revoke = (revokedBefore) => {
        if (isRevoked(principal.issuedAt, revokedBefore)) refuse('revoked', principal);
      };
      admission.authenticated();
      // The socket lives no longer than the token that opened it; the desktop signs in again when it is closed as unauthenticated.
      expiryTimer = setTimeout(() => refuse('expired', principal), Math.min(principal.validUntil - Date.now(), MAX_TIMER_MS));
      ctx.metrics.eventClients.inc();
      send(client, JSON.stringify({ type: 'ready', sub: principal.sub, roles: principal.roles } satisfies AgentEvent));
      for (const json of hub.snapshot(principal)) send(client, json);
      unsubscribe = hub.subscribe(principal, (json) => send(client, json));
    }

    function authenticate(token: string): void {
      verifying = true;
      clearTimeout(authTimer);
      verifier.verify(token).then(admit, (err: unknown) => refuse(err instanceof AuthError ? err.reason : 'malformed'));
    }

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!limiter.allow()) {
        ctx.metrics.eventClientsDropped.labels('rate_limited').inc();
        return ws.close(EVENTS_CLOSE.rateLimited, 'too many messages');
      }
      const message = isBinary ? undefined : parseClientMessage(data);
      if (!message) return ws.close(EVENTS_CLOSE.malformed, 'malformed message');
      if (message.type === 'auth') {
        if (verifying) return ws.close(EVENTS_CLOSE.malformed, 'already authenticating');
        return authenticate(message.token);
      }
      if (client.authenticated) send(client, JSON.stringify({ type: 'pong' } satisfies AgentEvent));
    });

    const bearer = offeredBearer(req);
    if (bearer) authenticate(bearer);
  }

  return {
    upgrade(req, socket, head, admission) {
      if (!originAllowed(req, ctx.config)) return refuseUpgrade(socket, 403, 'Forbidden');
      wss.handleUpgrade(req, socket, head, (ws) => run(ws, req, admission));
    },
    close() {
      clearInterval(heartbeat);
      stopFollowingIncident();
      hub.close();
      for (const client of clients) client.ws.close(EVENTS_CLOSE.goingAway, 'server shutting down');
      wss.close();
    },
  };
}

function parseClientMessage(data: RawData): z.infer<typeof clientMessage> | undefined {
  try {
    const parsed = clientMessage.safeParse(JSON.parse(data.toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function offeredBearer(req: IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const bearer = offered.find((p) => p.startsWith(BEARER_PREFIX));
  return bearer ? bearer.slice(BEARER_PREFIX.length) : undefined;
}

/**
 * Browsers send `Origin` on every WebSocket; only our own origin, the public URL's and the
 * configured desktop origins may open one. Non-browser clients send none and rely on the token.
 */
function originAllowed(req: IncomingMessage, config: EventsContext['config']): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const { host, origin: normalised } = new URL(origin);
    return host === req.headers.host || [config.publicUrl, ...config.http.corsOrigins].some((allowed) => new URL(allowed).origin === normalised);
  } catch {
    return false;
  }
}
