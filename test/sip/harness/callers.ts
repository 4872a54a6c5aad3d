import { join } from 'node:path';
import { writePcap } from './pcap.js';
import { rfc4733Stream, speechThenTones, writeAudioPcap } from './media.js';
import { callerScenario } from './sipp.js';
import type { Scene } from './scene.js';
import type { ReceivedStream } from './sink.js';

/** The two customers of the SIP tests, who both key a test card number and #. */

export const CARD = '4111111111111111';
/** What both callers key: a Visa number may be 16 or 19 digits long, so the caller ends it with #. */
export const KEYS = `${CARD}#`;
export const TONES_SSRC = 0x70a1e501;
export const EVENTS_SSRC = 0x70a1e502;

export interface StandardCallers {
  /** Speech, a pause, then the card number as in-band tones (G.711 μ-law). */
  tones: { scenario: string; tonesAtMs: number; durationMs: number };
  /** Silence with the card number keyed as RFC 4733 events (SIPp's shipped RFC 2833 packets). */
  events: { scenario: string; eventPackets: number; durationMs: number };
}

/**
 * Writes both callers' media and SIPp scenarios into `dir`. `agent` and `eventsAgent` go in
 * X-Toneguard-Agent on the callers' INVITEs (none: an unbound call); `keyAfterMs` is how long each
 * caller streams quietly (after the tones caller's speech) before keying: the time a test has to
 * start a capture.
 */
export function standardCallers(dir: string, options: { agent?: string; eventsAgent?: string; keyAfterMs?: number } = {}): StandardCallers {
  const audio = speechThenTones(KEYS, { pauseMs: options.keyAfterMs });
  const tonesPcap = join(dir, 'caller-tones.pcap');
  writeAudioPcap(tonesPcap, audio.samples, TONES_SSRC);
  const events = rfc4733Stream(KEYS, { ssrc: EVENTS_SSRC, leadMs: options.keyAfterMs });
  const eventsPcap = join(dir, 'caller-events.pcap');
  writePcap(eventsPcap, events.packets);
  const agentHeader = (agent?: string): Record<string, string> | undefined => (agent ? { 'X-Toneguard-Agent': agent } : undefined);
  return {
    tones: {
      scenario: callerScenario({ headers: agentHeader(options.agent), steps: [{ pcap: tonesPcap, durationMs: audio.durationMs + 400 }] }),
      tonesAtMs: audio.tonesAtMs,
      durationMs: audio.durationMs,
    },
    events: {
      scenario: callerScenario({ headers: agentHeader(options.eventsAgent), steps: [{ pcap: eventsPcap, durationMs: events.durationMs + 400 }] }),
      eventPackets: events.eventPackets,
      durationMs: events.durationMs,
    },
  };
}

/** The stream the agent received from a caller, by the caller's SSRC (a passthrough relay keeps it). */
export function streamFrom(streams: readonly ReceivedStream[], ssrc: number): ReceivedStream | undefined {
  return streams.find((s) => s.packets.some((p) => p.ssrc === ssrc));
}

/** What the agent received from each standard caller. */
export interface StandardOutcome {
  tones?: ReceivedStream;
  events?: ReceivedStream;
  all: ReceivedStream[];
}

/**
 * Runs both standard callers at once through `scene` and waits for the agent's last packets.
 * Throws with every process's log when a SIPp caller fails.
 */
export async function runStandardCalls(scene: Scene, options: Parameters<typeof standardCallers>[1] = {}, during?: (callers: StandardCallers) => Promise<void>): Promise<StandardOutcome> {
  const callers = standardCallers(scene.dir, options);
  const [tones, events] = await Promise.all([scene.call('tones', callers.tones.scenario), scene.call('events', callers.events.scenario), during?.(callers)]);
  for (const [name, run] of [['tones', tones], ['events', events]] as const) {
    if (run.code !== 0) throw new Error(`the ${name} caller failed (sipp exit ${run.code})\n${run.log.slice(-2000)}\n${scene.logs()}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const all = scene.sink.streams();
  return { tones: streamFrom(all, TONES_SSRC), events: streamFrom(all, EVENTS_SSRC), all };
}
