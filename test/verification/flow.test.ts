import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { EVENTS_SUBPROTOCOL, type AgentEvent } from '../../src/agent/contract.js';
import { LOOKUP_JWS_TYPE } from '../../src/verification/crm-lookup.js';
import { TEST_ACCOUNT_SID } from '../helpers/server.js';
import { holds } from '../helpers/byte-scan.js';
import {
  concatSamples,
  decodeDigits,
  finalView,
  keypadTones,
  silence,
  SimulatedCall,
  startTwilioTestBed,
  waitFor,
  type RecordedTwilioRequest,
  type TwilioTestBed,
} from '../helpers/twilio.js';
import { startCrmStandIn, type CrmStandIn } from '../../src/verification/crm-stand-in.js';

const CALLER = '+15005550006';
const MOBILE_ON_FILE = '+447700900123';
const ACCOUNT = 'ACME-1001';
const PAN = '4111111111111111';

/** The code the stand-in's recorded Messages.json create carried. */
function codeIn(message: RecordedTwilioRequest): string {
  const code = /\b(\d{6})\b/.exec(message.params.Body ?? '')?.[1];
  if (!code) throw new Error('no code in the text message');
  return code;
}

/** Whether `text` holds the code as a number of its own (a timestamp's digits are not a leak). */
function leaksCode(text: string, code: string): boolean {
  return new RegExp(`(?<!\\d)${code}(?!\\d)`).test(text) || holds(Buffer.from(text, 'latin1'), `"${code}"`);
}

/** Keys digits as tones on the caller leg while the agent leg sends silence. */
async function callerKeys(call: SimulatedCall, digits: string): Promise<void> {
  const keyed = keypadTones(digits);
  const audio = concatSamples([silence(200), keyed.audio, silence(200)]);
  const shifted = { audio, keyEnds: keyed.keyEnds.map((k) => ({ ...k, endSample: k.endSample + 1600 })) };
  await Promise.all([call.callerPlays(shifted, 4), call.agentPlays(silence((audio.length / 8) | 0), 4)]);
}

describe('caller verification with a masked one-time code (slow, real service)', () => {
  let crm: CrmStandIn;
  let bed: TwilioTestBed;
  let call: SimulatedCall;
  let alice: string;
  let code: string;
  let otpCaptureId: string;
  let heardDuringCode: Int16Array;
  const events: string[] = [];
  let events$: WebSocket;

  beforeAll(async () => {
    let jwksUrl = '';
    crm = await startCrmStandIn({ [ACCOUNT]: [CALLER, MOBILE_ON_FILE] }, () => jwksUrl);
    bed = await startTwilioTestBed({
      twilio: { agentTarget: 'client:alice' },
      verification: { lookupUrl: crm.url, smsFrom: '+15005550001' },
      capture: { requireVerification: 'otp_verified' },
    });
    jwksUrl = `${bed.server.url}/.well-known/jwks.json`;
    const token = await mintDevToken(bed.server.context.config, { sub: 'alice', role: 'agent' });
    alice = `Bearer ${token}`;
    events$ = new WebSocket(`${bed.server.url.replace(/^http/, 'ws')}/v1/events`, [EVENTS_SUBPROTOCOL, `bearer.${token}`]);
    events$.on('message', (data) => events.push(String(data)));
    await new Promise((resolve, reject) => events$.once('open', resolve).once('error', reject));
    call = await SimulatedCall.dial({ target: bed.target, accountSid: TEST_ACCOUNT_SID, standIn: bed.standIn, from: CALLER, stirVerstat: 'TN-Validation-Passed-A' });
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
  }, 30_000);

  afterAll(async () => {
    events$?.close();
    await call?.hangUp().catch(() => undefined);
    await bed?.close();
    await crm?.close();
  });

  const url = () => bed.server.url;
  const verification = () => bed.server.context.calls.get(call.callSid)?.verification;

  it('keeps the STIR/SHAKEN attestation of the inbound call: level attested', () => {
    expect(verification()).toEqual({ level: 'attested', attestation: 'A', callerIdOnFile: null, numbersOnFile: [], otp: null });
  });

  it('refuses a card capture before the required level (409 verification_required)', async () => {
    const res = await request(url()).post(`/v1/calls/${call.callSid}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(409);
    expect(res.body.error.code).toBe('verification_required');
  });

  it('looks the account up through the signed CRM webhook and matches the caller ID: number_on_file', async () => {
    const res = await request(url()).post(`/v1/calls/${call.callSid}/verification`).set('authorization', alice).send({ accountRef: ACCOUNT }).expect(200);
    expect(res.body.verification).toEqual({ level: 'number_on_file', attestation: 'A', callerIdOnFile: true, numbersOnFile: ['06', '23'], otp: null });
    expect(crm.refused).toBe(0);
    expect(crm.seen).toHaveLength(1);
    expect(crm.seen[0].typ).toBe(LOOKUP_JWS_TYPE);
    expect(crm.seen[0].claims).toMatchObject({ accountRef: ACCOUNT, aud: crm.url });
  });

  it('refuses bodies that are not strictly an account reference or a number index', async () => {
    const path = `/v1/calls/${call.callSid}/verification`;
    await request(url()).post(path).set('authorization', alice).send({ accountRef: ACCOUNT, extra: 1 }).expect(422);
    await request(url()).post(path).set('authorization', alice).send({ accountRef: PAN }).expect(422);
    await request(url()).post(`${path}/otp`).set('authorization', alice).send({ number: MOBILE_ON_FILE }).expect(422);
    const other = await request(url()).post(`${path}/otp`).set('authorization', alice).send({ numberIndex: 2 }).expect(422);
    expect(other.body.error.code).toBe('number_not_on_file');
    await request(url()).post(path).set('authorization', `Bearer ${await mintDevToken(bed.server.context.config, { sub: 'bob', role: 'agent' })}`).send({ accountRef: ACCOUNT }).expect(403);
  });

  it('texts a code to the chosen number on file; the caller keys it as tones; the agent hears no digit', async () => {
    const sent = await request(url()).post(`/v1/calls/${call.callSid}/verification/otp`).set('authorization', alice).send({ numberIndex: 1 }).expect(201);
    otpCaptureId = sent.body.captureId;
    expect(sent.body.verification.otp).toEqual({ state: 'sent', captureId: otpCaptureId, numberLast2: '23' });
    const message = bed.standIn.requests.find((r) => r.path.endsWith('/Messages.json'));
    expect(message?.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`);
    expect(message?.params.To).toBe(MOBILE_ON_FILE);
    expect(message?.params.From).toBe('+15005550001');
    code = codeIn(message!);
    const before = call.agent.receivedAudio().length;
    await callerKeys(call, code);
    const done = await waitFor(() => finalView(bed.server, otpCaptureId));
    heardDuringCode = call.agent.receivedAudio().slice(before);
    expect(done.state).toBe('complete');
    expect(done.result).toBeNull();
    expect(done.fields).toEqual([expect.objectContaining({ kind: 'otp', state: 'complete', digitCount: 6 })]);
    expect(verification()?.level).toBe('otp_verified');
    expect(verification()?.otp?.state).toBe('verified');
  }, 20_000);

  it('multimon-ng finds no digit in what the agent heard, though the caller audio held the code', () => {
    expect(heardDuringCode.length).toBeGreaterThan(8000);
    const heard = decodeDigits(heardDuringCode);
    expect(heard.decoder).toBe('multimon-ng');
    expect(heard.digits).toBe('');
    expect(decodeDigits(keypadTones(code).audio).digits).toBe(code);
  });

  it('the events socket carried the level, never the code', async () => {
    await waitFor(() => events.some((e) => (JSON.parse(e) as AgentEvent).type === 'call' && e.includes('"otp_verified"')));
    for (const event of events) expect(leaksCode(event, code)).toBe(false);
  });

  it('then a card capture with requireVerification=otp_verified starts and completes', async () => {
    const started = await request(url()).post(`/v1/calls/${call.callSid}/captures`).set('authorization', alice).send({ fields: ['card_number'] }).expect(201);
    await callerKeys(call, `${PAN}#`);
    const done = await waitFor(() => finalView(bed.server, started.body.id));
    expect(done.state).toBe('complete');
    expect(done.result?.last4).toBe('1111');
  }, 20_000);

  it('no log line, audit record or event holds the code or a whole number on file', async () => {
    await bed.server.context.alerter.idle();
    const auditDir = join(bed.server.dataDir, 'audit');
    const trail = readdirSync(auditDir).map((f) => readFileSync(join(auditDir, f), 'latin1')).join('\n');
    const logs = bed.server.logLines.join('\n');
    expect(trail).toContain('verification.otp_verified');
    for (const text of [trail, logs, events.join('\n')]) {
      expect(leaksCode(text, code)).toBe(false);
      expect(text).not.toContain(MOBILE_ON_FILE.slice(1));
      expect(text).not.toContain(ACCOUNT);
    }
  });
});
