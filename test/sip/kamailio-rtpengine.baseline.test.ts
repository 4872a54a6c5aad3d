import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD, EVENTS_SSRC, TONES_SSRC, standardCallers, streamFrom } from './harness/callers.js';
import { eventDigits, judge } from './harness/judge.js';
import { startRtpengine } from './harness/relay.js';
import { startScene, type Scene } from './harness/scene.js';

/**
 * The problem Toneguard's SIP mode solves, measured with real software: Kamailio (running
 * config/sip/kamailio.cfg) with Sipwise rtpengine as its media relay, in front of a PBX. Both
 * customers key a card number; the agent behind rtpengine gets all of it. This also proves the
 * harness (SIPp callers, SIPp PBX, the media sink, multimon-ng) before it judges Toneguard.
 */

let scene: Scene;

beforeAll(async () => {
  scene = await startScene({ relay: (dir) => startRtpengine(dir) });
});
afterAll(async () => {
  await scene?.stop();
});

describe('baseline: Kamailio + Sipwise rtpengine (slow, real kamailio, sipp, rtpengine, multimon-ng)', () => {
  it('the agent hears every in-band digit of the card number and receives every RFC 4733 event', async () => {
    const callers = standardCallers(scene.dir, { agent: 'alice' });
    const [tones, events] = await Promise.all([scene.call('tones', callers.tones.scenario), scene.call('events', callers.events.scenario)]);
    expect(tones.code, `tones caller failed\n${tones.log.slice(-2000)}\n${scene.logs()}`).toBe(0);
    expect(events.code, `events caller failed\n${events.log.slice(-2000)}\n${scene.logs()}`).toBe(0);

    const streams = scene.sink.streams();
    const heardTones = streamFrom(streams, TONES_SSRC);
    const heardEvents = streamFrom(streams, EVENTS_SSRC);
    expect(heardTones, `no stream from the tones caller reached the agent\n${scene.logs()}`).toBeDefined();
    expect(heardEvents, `no stream from the events caller reached the agent\n${scene.logs()}`).toBeDefined();

    // In-band: rtpengine relays the tones untouched, so an independent decoder reads the card number.
    expect(judge(heardTones!).digits).toBe(CARD);
    // Out-of-band: every telephone-event packet (updates and the three end packets) is forwarded.
    const verdict = judge(heardEvents!);
    expect(verdict.telephoneEvents).toBe(callers.events.eventPackets);
    expect(eventDigits(heardEvents!.packets)).toBe(CARD);
    // rtpengine was told about the agent (an unknown key it ignores with a warning): the same cfg drives Toneguard.
    expect(scene.relay.log()).toContain("Unknown dictionary key encountered: 'toneguard-agent'");
  }, 60_000);
});
