/**
 * Full-flow leak scan for SIP mode's media path (issue 14, item 8): a call through the RTP relay
 * on real loopback sockets, the card keyed partly as in-band tones and partly as RFC 4733 events
 * (some in RFC 2198 redundancy), the capture started over the agent REST API. Then everything is
 * searched for the secrets with the same independent byte scanner as the Twilio scan: log lines,
 * process output, the audit trail, `/metrics`, capture views, events-socket messages, HTTP bodies,
 * what the relay reports for ng `query` (stats, counters, totals), every file under the data dir,
 * the decrypted recording, and every RTP packet the agent received (no telephone-event or red
 * packet, no decodable digit: multimon-ng).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import type { CaptureView } from '../../src/capture/types.js';
import { decryptRecording, readWav, withWavSizes } from '../../src/media/index.js';
import type { SipRelayCall } from '../../src/telephony/sip/relay/index.js';
import { serializeRtp } from '../../src/telephony/sip/rtp/packet.js';
import { decodeDigits, finalView, keypadTones, syntheticSpeech, waitFor } from '../helpers/twilio.js';
import { fakeEndpoint, startRelayBed, type FakeEndpoint, type RelayBed } from '../telephony/sip/endpoints.js';
import { PCMU, rtpSession, type Step } from '../telephony/sip/rtp-session.js';
import { captureProcessOutput, EventsRecorder, filesUnder, RecordingHttp } from './leak/artefacts.js';
import { SecretScanner } from './leak/secrets.js';

const PAN = '5555555555554444';
const EXPIRY = '1230';
const CVV = '947';
const AGENT = 'alice';
const KEYPAD = '0123456789*#';

const scanner = new SecretScanner({
  cards: [{ label: 'PAN', value: PAN }],
  long: [],
  short: [
    { label: 'CVV', value: CVV },
    { label: 'expiry', value: EXPIRY },
  ],
});

describe('SIP full-flow leak scan: no keyed digit leaves the relay, the bridge or the service', () => {
  let bed: RelayBed;
  let call: SipRelayCall;
  let caller: FakeEndpoint;
  let agent: FakeEndpoint;
  let http: RecordingHttp;
  let events: EventsRecorder;
  let view: CaptureView | undefined;
  let queryReports: string[] = [];
  let processOutput: ReturnType<typeof captureProcessOutput> | undefined;
  const views: CaptureView[] = [];
  const callId = 'sip-leak-1';

  beforeAll(async () => {
    processOutput = captureProcessOutput();
    bed = await startRelayBed();
    const ctx = bed.server.context;
    ctx.captures.onView((v) => void views.push(v));
    const token = await mintDevToken(ctx.config, { sub: AGENT, role: 'agent' });
    http = new RecordingHttp(bed.server.url, `Bearer ${token}`);
    events = await EventsRecorder.open(bed.server.url, token);

    ctx.calls.upsert({ callSid: callId, agentId: AGENT, state: 'ringing', startedAt: new Date().toISOString() });
    call = bed.relay.open({ callId, caller: 'offerer' });
    const callerLocal = await call.local('offerer');
    const agentLocal = await call.local('answerer');
    caller = await fakeEndpoint();
    agent = await fakeEndpoint();
    call.setPeer('offerer', caller.peer());
    call.setPeer('answerer', agent.peer());

    const started = await http.request<{ id: string }>('POST', `/v1/calls/${callId}/captures`, { fields: ['card_number', 'expiry', 'cvv'] });
    expect(started.status).toBe(201);
    const events4733: Step[] = [...`${EXPIRY}${CVV}`].flatMap((d) => [{ key: KEYPAD.indexOf(d), ms: 100 }, { audio: new Int16Array(800) }]);
    const steps: Step[] = [{ audio: syntheticSpeech(300) }, { audio: keypadTones(`${PAN}#`).audio }, ...events4733];
    const sent = rtpSession(steps, { redundancy: 1 });
    const agentSide = rtpSession([{ audio: syntheticSpeech(sent[sent.length - 1].atMs, 4) }], { ssrc: 42 });
    await Promise.all([caller.play(sent, callerLocal.rtpPort), agent.play(agentSide, agentLocal.rtpPort)]);
    // A hostile extra: an RFC 4733 packet carrying a digit, sent to the agent side from a source that is not the agent.
    caller.rtp.send(serializeRtp({ marker: true, payloadType: 101, sequence: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array([4, 0x80, 0, 160]) }), agentLocal.rtpPort, '127.0.0.1');
    view = await waitFor(() => finalView(bed.server, started.json.id));
    await http.request('GET', `/v1/captures/${started.json.id}`);
    queryReports = [JSON.stringify(call.stats()), JSON.stringify(call.counters()), JSON.stringify(bed.relay.totals())];
    call.close('bye');
    await bed.media.closeAll();
    await http.text('/metrics');
  }, 60_000);

  afterAll(async () => {
    events?.close();
    caller?.close();
    agent?.close();
    await bed?.close();
    processOutput?.restore();
  });

  it('the capture completed with a token', () => {
    expect(view?.state).toBe('complete');
    expect(view?.result?.token).toBeTruthy();
    expect(view?.result?.last4).toBe('4444');
  });

  it('no log line, process output, audit record, metric, view, event, HTTP body or query report holds a secret', () => {
    const server = bed.server;
    expect(server.logLines.length).toBeGreaterThan(0);
    const hits = [
      ...server.logLines.flatMap((line, i) => scanner.scan(`log line ${i}`, line)),
      ...processOutput!.chunks.flatMap((chunk, i) => scanner.scan(`process output ${i}`, chunk)),
      ...scanner.scan('audit trail', JSON.stringify(server.auditRecords())),
      ...views.flatMap((v, i) => scanner.scan(`capture view ${i}`, JSON.stringify(v))),
      ...events.messages.flatMap((m, i) => scanner.scan(`events message ${i}`, m)),
      ...http.bodies.flatMap(({ what, body }) => scanner.scan(what, body)),
      ...queryReports.flatMap((r, i) => scanner.scan(`relay report ${i}`, r)),
    ];
    expect(hits).toEqual([]);
  });

  it('no file under the data dir holds a secret; the decrypted recording neither, and multimon-ng hears no digit in it', () => {
    const dir = bed.server.dataDir;
    expect(filesUnder(dir).flatMap((f) => scanner.scan(f.path.slice(dir.length + 1), f.bytes))).toEqual([]);
    const recordings = readdirSync(join(dir, 'recordings')).filter((n) => n.startsWith(callId));
    expect(recordings).toHaveLength(1);
    const wav = withWavSizes(decryptRecording(join(dir, 'recordings', recordings[0]), bed.server.context.keyring));
    expect(scanner.scan('recording', wav)).toEqual([]);
    const [callerChannel, agentChannel] = readWav(wav)!.channels;
    expect(callerChannel.length).toBeGreaterThan(8000);
    expect(decodeDigits(callerChannel).digits).toBe('');
    expect(decodeDigits(agentChannel).digits).toBe('');
  });

  it('the agent received only PCMU: no event, no red, no decodable digit, no secret in any packet', () => {
    expect(agent.received.length).toBeGreaterThan(100);
    expect(agent.received.every((p) => p.payloadType === PCMU)).toBe(true);
    const heard = decodeDigits(agent.audio());
    expect(heard.decoder).toBe('multimon-ng');
    expect(heard.digits).toBe('');
    expect(agent.received.flatMap((p, i) => scanner.scan(`agent packet ${i}`, Buffer.from(p.payload)))).toEqual([]);
  });
});
