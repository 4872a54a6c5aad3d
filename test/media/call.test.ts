import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, lastJsonLine } from '../helpers/cli.js';
import {
  concatSamples,
  decodeDigits,
  finalView,
  keypadTones,
  silence,
  startTwilioTestBed,
  syntheticSpeech,
  TEST_AGENT,
  waitFor,
  type TwilioTestBed,
} from '../helpers/twilio.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../helpers/server.js';

const PAN = '4111111111111111';
const EXPIRY = '1230';
const CVV = '947';
/** A Visa number may be 16 or 19 digits long: the caller ends it with #. */
const KEYS = `${PAN}#${EXPIRY}${CVV}`;

describe('an in-line call through the Twilio media bridge', () => {
  let bed: TwilioTestBed;
  let agentHeard: Int16Array;
  let captureId: string;
  let callSid: string;

  beforeAll(async () => {
    bed = await startTwilioTestBed({ twilio: { agentTarget: 'client:alice' } });
    const call = await bed.dial();
    callSid = call.callSid;
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    const session = bed.server.context.captures.start({
      callSid: call.callSid,
      fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }],
      actor: TEST_AGENT,
    });
    captureId = session.id;
    const keyed = keypadTones(KEYS);
    const speech = syntheticSpeech(600);
    const callerAudio = concatSamples([speech, keyed.audio]);
    const shifted = { audio: callerAudio, keyEnds: keyed.keyEnds.map((k) => ({ ...k, endSample: k.endSample + speech.length })) };
    await Promise.all([call.callerPlays(shifted, 4), call.agentPlays(silence((callerAudio.length / 8) | 0), 4)]);
    await waitFor(() => finalView(bed.server, captureId));
    await call.hangUp();
    agentHeard = call.agent.receivedAudio();
  }, 30_000);

  afterAll(async () => {
    await bed?.close();
  });

  it('places the agent leg through the REST API with the configured target and a signed-webhook URL', () => {
    const create = bed.standIn.requests.find((r) => r.path.endsWith('/Calls.json'));
    expect(create?.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls.json`);
    expect(create?.basicAuth).toBe(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`);
    expect(create?.params.To).toBe('client:alice');
    expect(create?.params.Url).toMatch(/^https:\/\/toneguard\.test\/twilio\/voice\/agent\?call=CA[0-9a-f]{32}$/);
    expect(bed.server.context.calls.get(callSid)?.agentId).toBe('alice');
  });

  it('captures the card, expiry and CVV into a token, showing the agent only brand and last four', () => {
    const view = bed.server.context.captures.get(captureId)?.view();
    expect(view?.state).toBe('complete');
    expect(view?.result?.token).toBeTruthy();
    expect(view?.result?.last4).toBe('1111');
    expect(view?.fields.map((f) => f.state)).toEqual(['complete', 'complete', 'complete']);
    expect(JSON.stringify(view)).not.toContain(PAN);
  });

  it('the agent hears no decodable digit (multimon-ng), while the caller audio held them all', () => {
    expect(agentHeard.length).toBeGreaterThan(8000);
    const heard = decodeDigits(agentHeard);
    expect(heard.decoder).toBe('multimon-ng');
    expect(heard.digits).toBe('');
    expect(decodeDigits(keypadTones(KEYS).audio).digits).toBe(KEYS);
  });

  it('merges Twilio dtmf events with the in-band detection: each keypress counts once', async () => {
    const response = await fetch(`${bed.server.url}/metrics`);
    const text = await response.text();
    const delivered = [...text.matchAll(/^toneguard_digits_captured_total\{source="(\w+)"\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
    expect(delivered).toBe(KEYS.length);
    expect(text).toMatch(/^toneguard_masked_milliseconds_total [1-9]/m);
    expect(text).toMatch(/^toneguard_media_frames_in_total\{leg="caller"\} [1-9]/m);
  });

  it('writes an encrypted stereo recording that verifies clean', async () => {
    const dir = join(bed.server.dataDir, 'recordings');
    // A recording keeps its `.partial` name until its final chunk is on disk.
    const files = await waitFor(() => {
      const names = readdirSync(dir);
      return names.length === 1 && names[0].endsWith('.tgrec') ? names : undefined;
    });
    const result = runCli(['recording', 'verify', join(dir, files[0])], { env: { TONEGUARD_DATA_DIR: bed.server.dataDir } });
    expect(result.status).toBe(0);
    const summary = lastJsonLine<{ clean: boolean; durationMs: number; channels: { digitsFound: number }[] }>(result.stdout);
    expect(summary.clean).toBe(true);
    expect(summary.durationMs).toBeGreaterThan(1000);
  });

  it('never writes the PAN or the CVV to a log line', () => {
    expect(bed.server.logLines.length).toBeGreaterThan(0);
    const all = bed.server.logLines.join('');
    expect(all).not.toContain(PAN);
    // A request's duration or the process id can be any three-digit number (947 ms under load): not a leak.
    const withoutMeasurements = all.replace(/"(time|pid|durationMs)":[0-9.]+/g, '');
    expect(withoutMeasurements).not.toMatch(new RegExp(`(^|[^0-9])${CVV}([^0-9]|$)`));
  });
});
