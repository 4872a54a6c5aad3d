import type { RemoteInfo } from 'node:dgram';
import type { AppContext } from '../../context.js';
import type { MediaService } from '../../media/index.js';
import { isLoopbackAddress, parseNgListen, parsePortRange } from './listen.js';
import { startNgServer } from './ng/server.js';
import type { RtpRelay } from './relay/types.js';
import { registryBinding } from './session/call-binding.js';
import { SipSessions } from './session/sessions.js';

type SipContext = Pick<AppContext, 'config' | 'logger' | 'audit' | 'metrics' | 'calls' | 'captures'>;

/** What a relay implementation is built from; the composition root injects the factory. */
export interface RtpRelayDeps {
  context: SipContext;
  /** Where the relay attaches each call's legs (`attachTrusted`), so the caller's audio is masked and captured. */
  media: MediaService;
  portRange: { low: number; high: number };
  advertisedAddress: string;
}

export type RtpRelayFactory = (deps: RtpRelayDeps) => RtpRelay;

export interface SipMode {
  /** The bound ng socket (its port is the real one when `sip.ng.listen` asked for port 0). */
  readonly ngAddress: { address: string; port: number };
  readonly sessions: SipSessions;
  close(): Promise<void>;
}

/** The relay's construction inputs from the configuration. */
export function relayDeps(context: SipContext, media: MediaService): RtpRelayDeps {
  const portRange = parsePortRange(context.config.sip.rtp.portRange);
  if (!portRange) throw new Error('sip.rtp.portRange was validated at load');
  return { context, media, portRange, advertisedAddress: context.config.sip.rtp.advertisedAddress };
}

/** IPv4 senders reach an IPv6 socket as `::ffff:a.b.c.d`; the allow-list names them plainly. */
const plainAddress = (address: string) => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

/**
 * SIP mode: the ng control socket Kamailio or OpenSIPS drives with its stock `rtpengine` module,
 * the call sessions behind it and their media timeouts, over the given RTP relay. Only senders on
 * `sip.ng.allowFrom` (loopback when it is empty) are obeyed; others are dropped, counted and
 * audited (coalesced, so a flood cannot flood the trail).
 */
export async function startSipMode(deps: { context: SipContext; relay: RtpRelay }): Promise<SipMode> {
  const { context, relay } = deps;
  const { config, metrics, audit } = context;
  const logger = context.logger.child({ module: 'sip' });
  const listen = parseNgListen(config.sip.ng.listen ?? '');
  if (!listen) throw new Error('sip.ng.listen was validated at load');
  const allowFrom = new Set(config.sip.ng.allowFrom.map(plainAddress));
  const allowed = (address: string) => {
    const plain = plainAddress(address);
    return allowFrom.size > 0 ? allowFrom.has(plain) : isLoopbackAddress(plain);
  };
  const sessions = new SipSessions({
    relay,
    binding: registryBinding(context),
    advertisedAddress: config.sip.rtp.advertisedAddress,
    timeoutMs: config.sip.rtp.timeoutMs,
    silentTimeoutMs: config.sip.rtp.silentTimeoutMs,
    onCallEnded: (reason) => {
      metrics.sipCallsEnded.labels(reason).inc();
      logger.info({ reason }, 'sip call freed');
    },
  });
  const refused = (reason: string, source: RemoteInfo) => {
    metrics.sipNgDropped.labels(reason).inc();
    if (reason !== 'not_allowed') return;
    audit.record({
      action: 'sip.ng_refused',
      actor: { type: 'telephony', id: 'ng', source: source.address },
      outcome: 'denied',
      source: source.address,
      details: { reason },
    });
  };
  const server = await startNgServer({
    listen,
    allowed,
    handle: (command) => sessions.handle(command),
    replyCache: { ttlMs: config.sip.ng.replyCacheMs, maxEntries: config.sip.ng.replyCacheEntries },
    onDropped: refused,
    onAnswered: ({ command, result, duplicate }) => metrics.sipNgMessages.labels(command, result, String(duplicate)).inc(),
    onError: (err) => logger.error({ err }, 'ng command failed'),
  });
  const sweepMs = Math.max(50, Math.min(1_000, Math.floor(config.sip.rtp.timeoutMs / 4)));
  const sweeper = setInterval(() => {
    sessions.sweep();
    metrics.sipCalls.set(sessions.size);
  }, sweepMs).unref();
  logger.info({ ng: server.address, allowFrom: [...allowFrom] }, 'sip mode: ng control socket listening');
  return {
    ngAddress: server.address,
    sessions,
    async close() {
      clearInterval(sweeper);
      await server.close();
      sessions.closeAll('shutdown');
      relay.closeAll();
    },
  };
}
