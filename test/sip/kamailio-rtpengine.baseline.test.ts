import { afterEach, describe, expect, it } from 'vitest';
import { KEYS, runStandardCalls, standardCallers } from './harness/callers.js';
import { eventDigits, judge } from './harness/judge.js';
import { startRtpengine } from './harness/relay.js';
import { startScene, type Scene } from './harness/scene.js';

/**
 * The problem Toneguard's SIP mode solves, measured with real software: Kamailio (running
 * config/sip/kamailio.cfg) with Sipwise rtpengine as its media relay, in front of a PBX. One
 * customer keys a card number (and #) as in-band tones, another as RFC 4733 events; the agent behind
 * rtpengine gets all of it, and rtpengine's own DTMF blocking only changes what happens to the
 * events. This also proves the harness (SIPp callers, SIPp PBX, the media sink, multimon-ng)
 * before it judges Toneguard.
 */

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.stop();
  scene = undefined;
});

const withRtpengine = async (kamailioDefines: string[] = [], answerHeaders?: Record<string, string>): Promise<Scene> =>
  (scene = await startScene({ relay: (dir) => startRtpengine(dir), kamailioDefines, answerHeaders }));

/** rtpengine's debug dumps of the ng dictionaries it received for `command` (log-level-control=7; an entry spans the SDP's lines). */
const ngDumps = (log: string, command: string): string[] => log.split(/\n(?=\[\d+\.\d+\] )/).filter((entry) => entry.includes(`Dump for '${command}'`));

describe('baseline: Kamailio + Sipwise rtpengine (slow, real kamailio, sipp, rtpengine, multimon-ng, spandsp)', () => {
  it('the agent hears every in-band digit of the card number and receives every RFC 4733 event', async () => {
    const bed = await withRtpengine([], { 'X-Toneguard-Agent': 'carol' });
    const heard = await runStandardCalls(bed, { agent: 'alice' });
    expect(heard.tones, `nothing from the tones caller reached the agent\n${bed.logs()}`).toBeDefined();
    expect(heard.events, `nothing from the events caller reached the agent\n${bed.logs()}`).toBeDefined();

    // In-band: relayed untouched, so both independent decoders read the card number.
    const tones = judge(heard.tones!);
    expect(tones.digits).toBe(KEYS);
    expect(tones.spandspDigits).toBe(KEYS);
    // Out-of-band: every telephone-event packet (updates and the three end packets) is forwarded.
    expect(judge(heard.events!).telephoneEvents).toBe(standardCallers(bed.dir).events.eventPackets);
    expect(eventDigits(heard.events!.packets)).toBe(KEYS);
    // The cfg passes the agent named in the INVITE with the offer and the one named in the PBX's
    // 200 OK with the answer, as top-level ng keys; rtpengine ignores them with a warning.
    const log = bed.relay.log();
    expect(ngDumps(log, 'offer').some((l) => l.includes('"toneguard-agent": "alice"'))).toBe(true);
    expect(ngDumps(log, 'answer').some((l) => l.includes('"toneguard-agent": "carol"'))).toBe(true);
    expect(log).toContain("Unknown dictionary key encountered: 'toneguard-agent'");
  });

  it("with rtpengine's block_dtmf (DTMF-security=drop) the events stop, but the in-band digits still reach the agent", async () => {
    const bed = await withRtpengine(['RTPENGINE_BLOCK_DTMF="DTMF-security=drop"']);
    const heard = await runStandardCalls(bed, { agent: 'alice' });
    expect(judge(heard.events!).telephoneEvents).toBe(0);
    expect(judge(heard.tones!).digits).toBe(KEYS);
  });

  it('with DTMF-security=tone the events come back to the agent as audible keypad tones', async () => {
    const bed = await withRtpengine(['RTPENGINE_BLOCK_DTMF="DTMF-security=tone"']);
    const heard = await runStandardCalls(bed, { agent: 'alice' });
    const events = judge(heard.events!);
    expect(events.telephoneEvents).toBe(0);
    expect(events.digits).toBe(KEYS);
    expect(events.spandspDigits).toBe(KEYS);
    expect(judge(heard.tones!).digits).toBe(KEYS);
  });
});
