import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ACCOUNT_SID } from '../helpers/server.js';
import {
  keypadTones,
  randomSid,
  silence,
  startTwilioTestBed,
  syntheticSpeech,
  TEST_AGENT,
  TwilioStreamClient,
  waitFor,
  type TwilioTestBed,
} from '../helpers/twilio.js';
import { MEDIA_GARBAGE as GARBAGE } from '../security/fuzz/media.js';

async function metric(bed: TwilioTestBed, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${bed.server.url}/metrics`)).text();
  return [...text.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('media bridge robustness', () => {
  let bed: TwilioTestBed;

  beforeAll(async () => {
    bed = await startTwilioTestBed({ media: { maxMessagesPerSecond: 5000 } });
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('garbage on one call leaves a concurrent call flowing, with warnings carrying reason codes only', async () => {
    const [noisy, quiet] = await Promise.all([bed.dial(), bed.dial()]);
    const frames = 50;
    const quietRun = Promise.all([quiet.callerPlays(syntheticSpeech(frames * 20), 2), quiet.agentPlays(silence(frames * 20), 2)]);
    for (let round = 0; round < 20; round++) for (const text of GARBAGE) noisy.caller.sendRaw(text);
    await quietRun;
    await waitFor(() => quiet.agent.received.length >= frames - 2);
    expect(noisy.caller.open).toBe(true);
    expect(await metric(bed, /^toneguard_media_malformed_messages_total\{reason="\w+"\} (\d+)/gm)).toBeGreaterThanOrEqual(GARBAGE.length * 20 - 40);
    const warnings = bed.server.logLines.filter((l) => l.includes('media message refused'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((l) => /"reason":"\w+"/.test(l) && !l.includes('not base64'))).toBe(true);
    await Promise.all([noisy.hangUp(), quiet.hangUp()]);
  });

  it('closes a stream that starts without a credential, or sends a second start, without touching other calls', async () => {
    const early = await TwilioStreamClient.open(bed.target, { callSid: randomSid('CA'), accountSid: TEST_ACCOUNT_SID, parameters: { leg: 'caller' } });
    const closed = await early.closed();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe('credential_invalid');

    const call = await bed.dial();
    call.caller.sendRaw(
      JSON.stringify({
        event: 'start',
        streamSid: call.caller.streamSid,
        start: { callSid: call.callSid, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} },
      }),
    );
    expect((await call.caller.closed()).reason).toBe('duplicate_start');
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'ended');
    expect(call.agent.open || (await call.agent.closed()).code === 1000).toBe(true);
  });

  it('a hang-up mid-capture cancels the capture and ends both legs', async () => {
    const call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    const session = bed.server.context.captures.start({ callSid: call.callSid, fields: [{ name: 'card_number' }], actor: TEST_AGENT });
    await call.callerPlays(keypadTones('4111'), 4);
    await waitFor(() => session.view().fields[0].digitCount === 4);
    await call.caller.stop();
    await waitFor(() => session.view().state === 'cancelled');
    await call.agent.closed();
    expect(bed.server.context.calls.get(call.callSid)?.state).toBe('ended');
    expect(bed.server.context.captures.activeForCall(call.callSid)).toBeUndefined();
  });

  it('a dead agent socket never blocks the caller: frames towards it are dropped and counted', async () => {
    const call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    // The agent stops reading: the kernel buffers fill, then `bufferedAmount` grows past the bound.
    (call.agent.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const frame = new Int16Array(1600);
    for (let i = 0; i < 4000; i++) call.caller.sendAudio(frame);
    await waitFor(async () => (await metric(bed, /^toneguard_media_frames_dropped_total\{leg="agent",reason="slow_consumer"\} (\d+)/gm)) > 0 || undefined, 15_000);
    // The caller side still answers: agent audio still reaches the caller.
    const before = call.caller.received.length;
    await call.agentPlays(silence(200), 2);
    await waitFor(() => call.caller.received.length > before);
    await call.hangUp();
  }, 30_000);
});
