/**
 * Full-flow leak scan (issue 7, proof 1).
 *
 * One running service (recording on, a real `jwe-push` processor beside it) and simulated Twilio
 * calls with their agent legs. Real flows through the public interfaces only: captures started
 * over the agent REST API with a dev token and keyed by the caller as in-band tones (a card with
 * expiry and CVV handed to the processor, an SSN), a bad-Luhn card until `too_many_attempts`, a
 * forged webhook carrying a PAN in a form field, a caller who stops halfway through a card until
 * the inter-digit timeout, and a hang-up with half a PAN keyed.
 *
 * Then everything the process emitted is searched for the secrets: log lines, the audit trail,
 * `/metrics`, every capture view, every events-socket message, every HTTP body we received, the
 * requests it sent to Twilio's REST API, every file under the data dir (vault SQLite files and
 * their WAL included) and each decrypted recording. Independent check: the scanners are plain
 * byte searches (`Buffer.includes` over ASCII, 4-grouped, UTF-16LE and base64 forms) and
 * multimon-ng over both decrypted recording channels and the audio the agent heard; none of it is
 * code under test. Hits are reported by label (where, which secret), never by value.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { getServiceJwks } from '../../src/audit/service-key.js';
import type { CaptureView } from '../../src/capture/types.js';
import { decryptRecording, readWav, withWavSizes } from '../../src/media/index.js';
import { TEST_ACCOUNT_SID } from '../helpers/server.js';
import { startSignalWireTestBed } from '../helpers/signalwire.js';
import {
  decodeDigits,
  finalView,
  keypadTones,
  postTwilioWebhook,
  silence,
  startTwilioTestBed,
  waitFor,
  type SimulatedCall,
  type TwilioTestBed,
} from '../helpers/twilio.js';
import { processorKeyPairs } from '../processors/keys.js';
import { serveJwks } from '../processors/service-jwks.js';
import { startTestProcessor, type TestProcessor } from '../processors/test-processor.js';
import { captureProcessOutput, EventsRecorder, filesUnder, RecordingHttp } from './leak/artefacts.js';
import { SecretScanner } from './leak/secrets.js';

const PAN = '4111111111111111';
const BAD_PAN = '4111111111111112';
/**
 * Keyed before the hang-up. Another card than PAN: the vault stores PAN's BIN and last four
 * side by side, which for 4111111111111111 reads as its first ten digits.
 */
const HALF_PAN = '378282246310005'.slice(0, 8);
/** Keyed and then abandoned until the inter-digit timeout; a third card, for the same reason. */
const TIMED_OUT = '6011111111111117'.slice(0, 9);
const EXPIRY = '1230';
const CVV = '123';
const SSN = '212345678';
const AGENT = 'alice';

const scanner = new SecretScanner({
  cards: [
    { label: 'PAN', value: PAN },
    { label: 'bad-Luhn PAN', value: BAD_PAN },
  ],
  long: [
    { label: 'SSN', value: SSN },
    { label: 'half PAN', value: HALF_PAN },
    { label: 'timed-out partial PAN', value: TIMED_OUT },
  ],
  short: [
    { label: 'CVV', value: CVV },
    { label: 'expiry', value: EXPIRY },
  ],
});

/** Every provider's calls go through the same scan: its bed (the real service, its REST stand-in) and where its agent calls ring. */
const PROVIDER_BEDS = [
  { provider: 'twilio', start: startTwilioTestBed, agentSettings: { twilio: { agentTarget: `client:${AGENT}` } } },
  { provider: 'signalwire', start: startSignalWireTestBed, agentSettings: { signalwire: { agentTarget: `client:${AGENT}` } } },
];

describe.each(PROVIDER_BEDS)('full-flow leak scan ($provider): no captured digit leaves the process except to the processor', ({ start, agentSettings }) => {
  let bed: TwilioTestBed;
  let processor: TestProcessor;
  let jwks: Awaited<ReturnType<typeof serveJwks>> | undefined;
  let http: RecordingHttp;
  let events: EventsRecorder;
  const views: CaptureView[] = [];
  const agentHeard: Int16Array[] = [];
  const outcomes: Record<'card' | 'ssn' | 'badLuhn' | 'timedOut' | 'hangUp', CaptureView | undefined> = {
    card: undefined,
    ssn: undefined,
    badLuhn: undefined,
    timedOut: undefined,
    hangUp: undefined,
  };
  let forgedStatus = 0;
  let dataDirFiles: { path: string; bytes: Buffer }[] = [];
  let processOutput: ReturnType<typeof captureProcessOutput> | undefined;

  /** The caller keys `digits` as in-band tones (4× real time) while the agent leg streams silence. */
  async function key(call: SimulatedCall, digits: string): Promise<void> {
    const keyed = keypadTones(digits);
    await Promise.all([call.callerPlays(keyed, 4), call.agentPlays(silence((keyed.audio.length / 8) | 0), 4)]);
  }

  async function startCapture(call: SimulatedCall, body: object): Promise<string> {
    const started = await http.request<{ id: string }>('POST', `/v1/calls/${call.callSid}/captures`, body);
    expect(started.status).toBe(201);
    return started.json.id;
  }

  async function captureOver(call: SimulatedCall, body: object, digits: string): Promise<CaptureView> {
    const id = await startCapture(call, body);
    await key(call, digits);
    await waitFor(() => finalView(bed.server, id));
    return (await http.request<{ view: CaptureView }>('GET', `/v1/captures/${id}`)).json.view;
  }

  beforeAll(async () => {
    processOutput = captureProcessOutput();
    const keys = await processorKeyPairs('acme');
    processor = await startTestProcessor({ encPrivate: keys.encPrivate, publicJwks: keys.jwks, serviceJwksUrl: () => jwks!.url, issuer: 'https://toneguard.test' });
    bed = await start({
      ...agentSettings,
      recording: { enabled: true },
      processors: [{ name: 'acme', type: 'jwe-push', url: processor.url, jwk: keys.jwks.keys[0], timeoutMs: 2000, maxAttempts: 2 }],
    });
    jwks = await serveJwks(getServiceJwks(bed.server.context.serviceKey));
    bed.server.context.captures.onView((view) => void views.push(view));
    const token = await mintDevToken(bed.server.context.config, { sub: AGENT, role: 'agent' });
    http = new RecordingHttp(bed.server.url, `Bearer ${token}`);
    events = await EventsRecorder.open(bed.server.url, token);

    const call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    outcomes.card = await captureOver(call, { fields: ['card_number', 'expiry', 'cvv'] }, `${PAN}#${EXPIRY}${CVV}`);
    outcomes.ssn = await captureOver(call, { fields: ['ssn'] }, SSN);
    const badLuhn = await startCapture(call, { fields: ['card_number'], options: { maxAttempts: 2 } });
    await key(call, `${BAD_PAN}#`);
    await waitFor(() => bed.server.context.captures.get(badLuhn)?.view().fields[0].attempts === 1);
    expect((await http.request('POST', `/v1/captures/${badLuhn}/fields/card_number/reset`)).status).toBe(200);
    await key(call, `${BAD_PAN}#${BAD_PAN}#`);
    outcomes.badLuhn = await waitFor(() => finalView(bed.server, badLuhn));
    outcomes.timedOut = await captureOver(call, { fields: ['card_number'], options: { maxAttempts: 2, firstDigitTimeoutMs: 1000, interDigitTimeoutMs: 1000 } }, TIMED_OUT);

    const { inboundPath, stream: signing } = bed.dialect;
    const forgedParams = { AccountSid: TEST_ACCOUNT_SID, CallSid: bed.dialect.newCallSid(), Digits: PAN };
    const forgedSignature = signing.sign('not-the-auth-token', `${bed.target.publicUrl}${inboundPath}`, forgedParams);
    const forged = await postTwilioWebhook(bed.target, inboundPath, forgedParams, forgedSignature, signing);
    forgedStatus = forged.status;
    http.bodies.push({ what: 'forged webhook', body: forged.body });

    const second = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(second.callSid)?.state === 'bridged');
    const halfKeyed = await startCapture(second, { fields: ['card_number'] });
    await key(second, HALF_PAN);
    await second.hangUp();
    outcomes.hangUp = await waitFor(() => finalView(bed.server, halfKeyed));

    await call.hangUp();
    agentHeard.push(call.agent.receivedAudio(), second.agent.receivedAudio());
    await waitFor(() => {
      const names = readdirSync(join(bed.server.dataDir, 'recordings'));
      return names.length === 2 && names.every((n) => n.endsWith('.tgrec'));
    });
    await http.text('/metrics');
    // Walked while the service runs, so the vault's -wal and -shm files are still there.
    dataDirFiles = filesUnder(bed.server.dataDir);
  }, 60_000);

  afterAll(async () => {
    events?.close();
    await bed?.close();
    await processor?.close();
    await jwks?.close();
    processOutput?.restore();
    if (!bed) return;
    // Shutdown writes too (final log lines, the vault's last checkpoint): scanned once more.
    const hits = [
      ...bed.server.logLines.flatMap((line, i) => scanner.scan(`log line ${i} (after shutdown)`, line)),
      ...processOutput!.chunks.flatMap((chunk, i) => scanner.scan(`process output ${i} (after shutdown)`, chunk)),
      ...filesUnder(bed.server.dataDir).flatMap((f) => scanner.scan(`${f.path.slice(bed.server.dataDir.length + 1)} (after shutdown)`, f.bytes)),
    ];
    expect(hits).toEqual([]);
  });

  it('the scanner finds every form it looks for, and a short secret only as a whole value', () => {
    const planted = [
      `{"pan":"${PAN.replace(/(\d{4})(?=\d)/g, '$1 ')}"}`,
      PAN.replace(/(\d{4})(?=\d)/g, '$1-'),
      Buffer.from(`xx${PAN}`).toString('base64'),
      `{"ssn":"${SSN}","cvv":"${CVV}"}`,
      `exp=${EXPIRY}&x=1`,
    ];
    expect(planted.flatMap((text, i) => scanner.scan(`planted ${i}`, text))).toEqual([
      'planted 0: PAN (spaced)',
      'planted 1: PAN (dashed)',
      'planted 2: PAN (base64, offset 2)',
      'planted 3: SSN',
      'planted 3: CVV',
      'planted 4: expiry',
    ]);
    expect(scanner.scan('UTF-16', Buffer.from(`<${BAD_PAN}>`, 'utf16le'))).toEqual(['UTF-16: bad-Luhn PAN (UTF-16LE)']);
    expect(scanner.scan('numbers', `{"durationMs":${CVV},"t":17${EXPIRY}9}`)).toEqual([]);
  });

  it('the flows ran: card handed to the processor, SSN tokenized, bad Luhn refused after a reset, a timeout, forged webhook 403, hang-up cancelled', () => {
    const card = outcomes.card!;
    expect(card.state).toBe('complete');
    expect(card.result).toMatchObject({ brand: 'visa', last4: '1111' });
    const delivery = [...processor.accepted.values()].find((d) => d.payload.reference === card.id);
    expect(delivery && card.result?.token === processor.tokenFor(delivery.idempotencyKey)).toBe(true);
    expect(delivery?.payload.fields.card_number === PAN && delivery.payload.cvv === CVV, 'the processor received the card').toBe(true);
    expect(outcomes.ssn?.state).toBe('complete');
    expect(outcomes.ssn?.result?.token).toBeTruthy();
    expect(outcomes.badLuhn).toMatchObject({ state: 'failed', error: { code: 'too_many_attempts' } });
    // The caller stopped after nine digits, then keyed nothing: two timeouts use up both attempts.
    expect(outcomes.timedOut).toMatchObject({ state: 'failed', error: { code: 'too_many_attempts' }, fields: [{ attempts: 2, digitCount: 0 }] });
    const timedOutViews = views.filter((v) => v.id === outcomes.timedOut!.id);
    expect(timedOutViews.some((v) => v.fields[0].digitCount === TIMED_OUT.length)).toBe(true);
    expect(timedOutViews.some((v) => v.state === 'active' && v.fields[0].error === 'timeout')).toBe(true);
    expect(forgedStatus).toBe(403);
    expect(outcomes.hangUp?.state).toBe('cancelled');
  });

  it('no log line, audit record, metric, capture view, event or HTTP body holds a secret', () => {
    expect(bed.server.logLines.length).toBeGreaterThan(0);
    expect(events.messages.length).toBeGreaterThan(0);
    const hits = [
      ...bed.server.logLines.flatMap((line, i) => scanner.scan(`log line ${i}`, line)),
      ...processOutput!.chunks.flatMap((chunk, i) => scanner.scan(`process output ${i}`, chunk)),
      ...scanner.scan('audit trail', JSON.stringify(bed.server.auditRecords())),
      ...views.flatMap((view, i) => scanner.scan(`capture view ${i}`, JSON.stringify(view))),
      ...events.messages.flatMap((message, i) => scanner.scan(`events message ${i}`, message)),
      ...http.bodies.flatMap(({ what, body }) => scanner.scan(what, body)),
      ...bed.standIn.requests.flatMap((request, i) => scanner.scan(`REST stand-in request ${i}`, JSON.stringify(request))),
    ];
    expect(hits).toEqual([]);
    expect(http.bodies.some((b) => b.what === 'GET /metrics' && b.body.includes('toneguard_'))).toBe(true);
  });

  it('no file under the data dir holds a secret, the encrypted vault files included', () => {
    const names = dataDirFiles.map((f) => f.path.slice(bed.server.dataDir.length + 1));
    expect(names).toEqual(expect.arrayContaining(['vault.db', 'vault.db-wal']));
    expect(names.some((n) => n.startsWith('audit/'))).toBe(true);
    expect(dataDirFiles.flatMap((f) => scanner.scan(f.path.slice(bed.server.dataDir.length + 1), f.bytes))).toEqual([]);
  });

  it('no decrypted recording holds a secret, and multimon-ng hears no digit on either channel', () => {
    const dir = join(bed.server.dataDir, 'recordings');
    const recordings = readdirSync(dir).map((name) => ({ name, wav: withWavSizes(decryptRecording(join(dir, name), bed.server.context.keyring)) }));
    expect(recordings).toHaveLength(2);
    expect(recordings.flatMap(({ name, wav }) => scanner.scan(`recording ${name}`, wav))).toEqual([]);
    // The decoder itself hears every key of the unmasked tones.
    const control = decodeDigits(keypadTones(`${PAN}#${SSN}`).audio);
    expect(control.decoder).toBe('multimon-ng');
    expect(control.digits === `${PAN}#${SSN}`, 'multimon-ng decodes unmasked keypad tones').toBe(true);
    for (const { wav } of recordings) {
      const audio = readWav(wav);
      expect(audio?.channels).toHaveLength(2);
      const [caller, agent] = audio!.channels;
      expect(caller.length).toBeGreaterThan(8000);
      expect(decodeDigits(caller).digits.length, 'digits decoded from the caller channel').toBe(0);
      expect(decodeDigits(agent).digits.length, 'digits decoded from the agent channel').toBe(0);
    }
    for (const heard of agentHeard) {
      expect(heard.length).toBeGreaterThan(8000);
      expect(decodeDigits(heard).digits.length, 'digits decoded from what the agent heard').toBe(0);
    }
  });
});
