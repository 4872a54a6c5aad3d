import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/audit/metrics.js';
import { parseConfig } from '../../src/config/index.js';
import { decodeMulaw, encodeMulaw } from '../../src/dsp/index.js';
import { CallBridge } from '../../src/media/bridge.js';
import type { EncodedAudio, LegOutput } from '../../src/media/types.js';
import { concatSamples, keypadTones, syntheticSpeech } from '../../src/simulator/index.js';

/** The base64 text `encoded` arrived in (empty when none). */
const base64TextOf = (encoded: EncodedAudio): Buffer => encoded.message.subarray(encoded.base64Start, encoded.base64End);

const FRAME = 160;

interface Sent {
  samples: Int16Array;
  /** The codec bytes the output was offered, decoded: undefined when it had to encode. */
  forwarded?: Int16Array;
  /** The base64 text it was offered with them, empty when none. */
  text?: string;
}

function recordingOutput(sent: Sent[]): LegOutput {
  return {
    sendAudio(samples: Int16Array, encoded?: EncodedAudio) {
      const forwarded = encoded ? new Int16Array(encoded.bytes.length) : undefined;
      if (encoded && forwarded) {
        expect(encoded.encoding).toBe('pcmu');
        decodeMulaw(encoded.bytes, forwarded);
        // The text, when offered, is exactly the base64 of the bytes offered with it.
        const text = base64TextOf(encoded);
        if (text.length) expect(text.toString('latin1')).toBe(Buffer.from(encoded.bytes).toString('base64'));
      }
      sent.push({ samples: samples.slice(), forwarded, text: encoded ? base64TextOf(encoded).toString('latin1') : undefined });
      return true;
    },
    sendMark: () => undefined,
    clear: () => undefined,
    close: () => undefined,
  };
}

/** A capture in progress, as far as the bridge asks: keys go to it and sound the feedback beep. */
const capturing = { maskPolicy: () => 'tones', press: () => undefined, noteActivity: () => undefined };

function bridge(feedback: 'none' | 'both' = 'none', capture?: typeof capturing): CallBridge {
  const config = parseConfig({ media: { feedback } });
  return new CallBridge({
    callId: 'CA-forwarding',
    format: { encoding: 'pcmu', sampleRate: 8000 },
    config,
    captures: { activeForCall: () => capture, endCall: () => undefined } as never,
    metrics: new Metrics(),
    logger: pino({ level: 'silent' }),
    onEnded: () => undefined,
  });
}

/** μ-law frames as a wire delivers them: the bytes, their base64 text, and the samples decoded from them. */
function frames(audio: Int16Array): { bytes: Uint8Array; encoded: EncodedAudio; samples: Int16Array }[] {
  const out = [];
  for (let at = 0; at + FRAME <= audio.length; at += FRAME) {
    const bytes = new Uint8Array(FRAME);
    encodeMulaw(audio.subarray(at, at + FRAME), bytes);
    const samples = new Int16Array(FRAME);
    decodeMulaw(bytes, samples);
    // The text sits inside a larger message, as it does on the wire.
    const message = Buffer.from(`{"payload":"${Buffer.from(bytes).toString('base64')}"}`, 'latin1');
    out.push({ bytes, encoded: { encoding: 'pcmu' as const, bytes, message, base64Start: 12, base64End: message.length - 2 }, samples });
  }
  return out;
}

describe('the bridge forwards frames as they arrived only where that is what it would send', () => {
  it('caller to agent: a forwarded frame is exactly the masked output; every frame a tone touched is encoded afresh', () => {
    const toAgent: Sent[] = [];
    const call = bridge();
    const caller = call.attachCaller(recordingOutput([]));
    call.attachAgent(recordingOutput(toAgent));
    const keyed = keypadTones('4111');
    const audio = concatSamples([syntheticSpeech(400, 3), keyed.audio, syntheticSpeech(400, 4)]);
    const sentFrames = frames(audio);
    for (const frame of sentFrames) caller.audio(frame.samples, frame.encoded);

    const forwarded = toAgent.filter((s) => s.forwarded);
    for (const s of forwarded) expect(s.forwarded).toEqual(s.samples);
    // Each forwarded frame is the caller's frame one lookahead before, with the text it came in.
    toAgent.forEach((s, i) => {
      if (s.forwarded) expect(s.text).toBe(Buffer.from(sentFrames[i - 1].bytes).toString('base64'));
    });
    // Speech passes untouched and goes on as it came; the keyed span is masked, so encoded.
    expect(forwarded.length).toBeGreaterThan(toAgent.length / 3);
    const keyedFrames = { from: Math.ceil((400 * 8) / FRAME) + 1, to: Math.floor((400 * 8 + keyed.audio.length) / FRAME) };
    const maskedFrames = toAgent.slice(keyedFrames.from, keyedFrames.to).filter((s) => !s.forwarded).length;
    expect(maskedFrames).toBeGreaterThan(0);
  });

  it('caller to agent: frames without codec bytes (split or from a wire that has none) are always encoded', () => {
    const toAgent: Sent[] = [];
    const call = bridge();
    const caller = call.attachCaller(recordingOutput([]));
    call.attachAgent(recordingOutput(toAgent));
    for (const frame of frames(syntheticSpeech(400, 5))) caller.audio(frame.samples);
    expect(toAgent.every((s) => !s.forwarded)).toBe(true);
  });

  it('agent to caller: forwarded as it came, except while the feedback beep is mixed in', () => {
    const toCaller: Sent[] = [];
    const call = bridge('both', capturing);
    const caller = call.attachCaller(recordingOutput(toCaller));
    const agent = call.attachAgent(recordingOutput([]));
    toCaller.length = 0;
    frames(syntheticSpeech(400, 6)).forEach((frame, i) => {
      // A key reported by the platform: the caller hears the beep over the agent's next frames.
      if (i === 5) caller.dtmf('7');
      agent.audio(frame.samples, frame.encoded);
    });
    const beeped = toCaller.filter((s) => !s.forwarded);
    expect(beeped.length).toBeGreaterThan(0);
    expect(toCaller.slice(0, 5).every((s) => s.forwarded)).toBe(true);
    expect(toCaller.slice(-5).every((s) => s.forwarded)).toBe(true);
    for (const s of toCaller) if (s.forwarded) expect(s.forwarded).toEqual(s.samples);
  });
});
