/**
 * Cross-service fuzz, extended to the ng control socket (issue 14, item 8).
 *
 * One running service in SIP mode (over a packet-less stand-in relay, the RTP side being the
 * media relay's to fuzz) and in it a healthy SIP call, bound to an agent, offered and answered.
 * Fuzzed over real UDP, with fast-check: arbitrary bytes; a cookie and arbitrary bytes; a cookie
 * and bencode or JSON dictionaries of ng keys (spelled every way) with hostile values and test
 * PANs; valid offers, answers and deletes of calls of their own, then bit-flipped, truncated and
 * spliced with hostile bencode (negative lengths, deep nesting, huge strings); all of it at once.
 * Asserted: a datagram with a cookie gets exactly one reply under that cookie, a dictionary with
 * `result` ok, pong or error (an error always with its `error-reason`), and never "Internal
 * error"; a datagram without one gets none; the healthy call keeps its relay call, its ports and
 * its registry entry, and answers `query`; `/healthz` stays 200; enough valid commands got
 * through to matter (counted); no log line or audit record carries a test PAN.
 */
import bencode from 'bencode';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { FakeRelay, phoneSdp } from '../telephony/sip/fakes.js';
import { decodeReply, NgClient } from '../telephony/sip/ng-client.js';
import { Tally } from './fuzz/answers.js';
import { FUZZ_PANS, hostileText } from './fuzz/values.js';

const HEALTHY = 'healthy-call-0001';
const MAX_UDP_PAYLOAD = 65_507;
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });

const keyName = fc.constantFrom('command', 'call-id', 'call id', 'from-tag', 'from tag', 'to-tag', 'via-branch', 'sdp', 'flags', 'rtpp-flags', 'replace', 'received-from', 'toneguard-agent', 'toneguard-caller', 'sip-message-type', 'supports', '__proto__', 'ICE');
const commandName = fc.constantFrom('ping', 'offer', 'answer', 'delete', 'query', 'list', 'statistics', 'block DTMF', 'play media', 'OFFER');
const fuzzCallId = fc.string({ minLength: 1, maxLength: 30 }).map((s) => `fuzz-${s}`);
const ngScalar = fc.oneof(hostileText, fc.integer(), fc.constantFrom(...FUZZ_PANS), fuzzCallId);
const ngValue = fc.oneof(ngScalar, fc.array(ngScalar, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), ngScalar, { maxKeys: 3 }));
const sdpText = fc.oneof(
  fc.constant(phoneSdp('192.0.2.10', 2000)),
  fc.constantFrom(...FUZZ_PANS).map((pan) => phoneSdp('192.0.2.10', 2000, [`a=x-card:${pan}`])),
  hostileText,
  fc.constant(phoneSdp('192.0.2.10', 2000).replace('RTP/AVP', 'RTP/SAVP')),
);
const ngDict = fc.record({ command: commandName, 'call-id': fuzzCallId, 'from-tag': fc.constantFrom('A', 'B', 'X'), sdp: sdpText, extra: fc.dictionary(keyName, ngValue, { maxKeys: 6 }) }, { requiredKeys: [] }).map(({ extra, ...known }) => ({ ...extra, ...known }));

/** A command a proxy would send, for a call of the fuzzer's own. */
const validCommand = fc.record({ callId: fuzzCallId, agent: fc.constantFrom('alice', 'bob', undefined) }).chain(({ callId, agent }) =>
  fc.constantFrom(
    { command: 'offer', 'call-id': callId, 'from-tag': 'A', sdp: phoneSdp('192.0.2.10', 2000), ...(agent ? { 'toneguard-agent': agent } : {}) },
    { command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp('198.51.100.20', 4000) },
    { command: 'delete', 'call-id': callId, 'from-tag': 'A' },
    { command: 'query', 'call-id': callId },
    { command: 'ping' },
  ),
);

const encoded = (dict: Record<string, unknown>, json: boolean) => (json ? Buffer.from(JSON.stringify(dict)) : Buffer.from(bencode.encode(dict)));
const mutate = (bytes: Buffer, flips: number[], cut: number | undefined): Buffer => {
  const copy = Buffer.from(bytes);
  for (const at of flips) copy[at % copy.length] ^= 1 << (at % 8);
  return cut === undefined ? copy : copy.subarray(0, cut % (copy.length + 1));
};
const hostileDocument = fc.constantFrom('d1:al-3:ee', 'dl-3:ee', `d1:a${'l'.repeat(5000)}`, `d1:a${'l'.repeat(40)}${'e'.repeat(40)}e`, 'd3:sdp99999:xe', 'di1ei2ee', '{"a":' + '['.repeat(3000), 'd7:command5:offer7:call-id0:e', 'i-0e', 'le', '');

/** A document after the cookie: garbage, a fuzzed dictionary, a valid command (possibly mutated), or a hostile construction. */
const document = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 4, arbitrary: fc.tuple(ngDict, fc.boolean()).map(([d, json]) => encoded(d, json)) },
  { weight: 3, arbitrary: fc.tuple(validCommand, fc.boolean()).map(([d, json]) => encoded(d, json)) },
  { weight: 3, arbitrary: fc.tuple(validCommand, fc.array(fc.nat(), { maxLength: 3 }), fc.option(fc.nat(), { nil: undefined })).map(([d, flips, cut]) => mutate(encoded(d, false), flips, cut)) },
  { weight: 2, arbitrary: hostileDocument.map((s) => Buffer.from(s)) },
);
const cookie = fc.oneof(fc.stringMatching(/^[0-9]{1,5}_[0-9]{1,10}_[0-9]{1,5}$/), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }).filter((c) => !c.includes(' ')));

describe('cross-service fuzz: the ng control socket', () => {
  let server: TestServer;
  let relay: FakeRelay;
  let client: NgClient;
  let healthyPorts: string;
  let healthyId: string;
  const tally = new Tally();

  beforeAll(async () => {
    relay = new FakeRelay(32000, 39999);
    server = await startTestServer({ sip: { ng: { listen: 'udp:127.0.0.1:0' } } }, { rtpRelay: () => relay });
    client = await NgClient.open(server.sip!.ngAddress.port);
    await client.command('h1', { command: 'offer', 'call-id': HEALTHY, 'from-tag': 'A', sdp: phoneSdp('192.0.2.10', 2000), 'toneguard-agent': 'alice' });
    await client.command('h2', { command: 'answer', 'call-id': HEALTHY, 'from-tag': 'A', 'to-tag': 'B', sdp: phoneSdp('198.51.100.20', 4000) });
    healthyId = relay.opened[0].callId;
    healthyPorts = JSON.stringify(relay.opened[0].ports);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  /** Sends one datagram and checks its answer (or its silence). */
  const play = async (message: Buffer, expectedCookie: string | undefined, retransmissions = 0) => {
    // Larger datagrams cannot be sent over UDP at all.
    if (message.length > MAX_UDP_PAYLOAD) return;
    const reply = await client.sendRaw(message, expectedCookie ?? '\u0000none', expectedCookie ? 1_000 : 30, expectedCookie ? retransmissions : 0);
    if (expectedCookie === undefined) {
      tally.add('dropped');
      return;
    }
    expect(reply, 'a datagram with a cookie is answered').toBeDefined();
    expect(reply!.toString('latin1', 0, reply!.indexOf(0x20))).toBe(expectedCookie);
    const answer = decodeReply(reply!);
    expect(['ok', 'pong', 'error']).toContain(answer.result);
    if (answer.result === 'error') {
      expect(typeof answer['error-reason']).toBe('string');
      expect(answer['error-reason']).not.toBe('Internal error');
    }
    tally.add(String(answer.result));
  };

  const healthyIntact = async () => {
    expect(relay.opened[0].closedWith).toBeUndefined();
    expect(JSON.stringify(relay.opened[0].ports)).toBe(healthyPorts);
    expect(server.context.calls.get(healthyId)).toMatchObject({ agentId: 'alice', state: 'bridged' });
    expect((await client.command('hq', { command: 'query', 'call-id': HEALTHY }))?.result).toBe('ok');
    await request(server.url).get('/healthz').expect(200);
  };

  it('answers every datagram that has a cookie, under that cookie, and drops the rest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: fc.tuple(cookie, document) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => [undefined, Buffer.from(b)] as const) }), async ([c, doc]) => {
        if (doc.includes(HEALTHY)) return;
        if (c === undefined) {
          const space = doc.indexOf(0x20);
          const hasCookie = space > 0 && space <= 128;
          return play(doc, hasCookie ? doc.toString('latin1', 0, space) : undefined, 2);
        }
        await play(Buffer.concat([Buffer.from(`${c} `, 'latin1'), doc]), c, 2);
      }),
      runs(400),
    );
    await healthyIntact();
    expect(tally.count('ok')).toBeGreaterThan(20);
    expect(tally.count('error')).toBeGreaterThan(50);
  });

  it('keeps answering while datagrams arrive all at once', async () => {
    const batch = fc.sample(fc.tuple(cookie, document), { numRuns: 200, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
    const unique = new Map(batch.filter(([, doc]) => !doc.includes(HEALTHY)).map(([c, doc], i) => [`${c}${i}`, doc] as const));
    // All at once, UDP drops what the socket buffer cannot hold: retransmitted as the modules do, answered from the reply cache.
    await Promise.all([...unique].map(([c, doc]) => play(Buffer.concat([Buffer.from(`${c} `, 'latin1'), doc]), c, 5)));
    await healthyIntact();
  });

  it('wrote no test PAN into any log line or audit record, and no command failed inside', () => {
    const logs = server.logLines.join('\n');
    const audit = JSON.stringify(server.auditRecords());
    for (const pan of FUZZ_PANS) {
      expect(logs).not.toContain(pan);
      expect(audit).not.toContain(pan);
    }
    expect(logs).not.toContain('ng command failed');
  });
});
