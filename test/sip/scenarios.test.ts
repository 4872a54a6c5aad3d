import { describe, expect, it } from 'vitest';
import { agentScenario, callerScenario } from './harness/sipp.js';

/** The SIP messages of the harness's SIPp scenarios, as SIPp would send them (CDATA of each <send>). */
function sends(xml: string): string[] {
  return [...xml.matchAll(/<send[^>]*><!\[CDATA\[\n([\s\S]*?)\]\]><\/send>/g)].map((m) => m[1]);
}

/** Header lines up to the first empty line (where SIP ends the header section). */
const headerSection = (message: string): string[] => message.split('\n').slice(0, message.split('\n').indexOf(''));

describe('SIP harness scenarios', () => {
  // A caller without X-Toneguard-Agent once sent an empty line before Content-Type: its SDP became body junk.
  it.each<Record<string, string>>([{}, { 'X-Toneguard-Agent': 'alice' }, { 'X-Toneguard-Agent': 'alice', 'X-Other': '1' }])('every message keeps all its headers before the body (%o)', (headers) => {
    for (const xml of [callerScenario({ headers, steps: [{ pcap: '/tmp/x.pcap', durationMs: 100 }] }), agentScenario({ sinkPort: 4000, answerHeaders: headers })]) {
      for (const message of sends(xml)) {
        const head = headerSection(message);
        expect(head.some((l) => l.startsWith('Content-Length:')), message).toBe(true);
        for (const name of Object.keys(headers)) expect(head.some((l) => l.startsWith(`${name}:`))).toBe(message.includes(`${name}:`));
      }
    }
  });
});
