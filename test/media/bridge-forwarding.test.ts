import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/audit/metrics.js';
import { parseConfig } from '../../src/config/index.js';
import { decodeMulaw, encodeMulaw } from '../../src/dsp/index.js';
import { CallBridge } from '../../src/media/bridge.js';
import type { EncodedAudio, LegOutput } from '../../src/media/types.js';
import { concatSamples, keypadTones, syntheticSpeech } from '../../src/simulator/index.js';

const FRAME = 160;

interface Sent {
  samples: Int16Array;
  /** The codec bytes the output was offered, decoded: undefined when it had to encode. */
  forwarded?: Int16Array;
}

function recordingOutput(sent: Sent[]): LegOutput {
  return {
    sendAudio(samples: Int16Array, encoded?: EncodedAudio) {
      const forwarded = encoded ? new Int16Array(encoded.bytes.length) : undefined;
      if (encoded && forwarded) {
        expect(encoded.encoding).toBe('pcmu');
        decodeMulaw(encoded.bytes, forwarded);
      }
      sent.push({ samples: samples.slice(), forwarded });
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

/** μ-law frames as a wire delivers them: the bytes, and the samples decoded from them. */
function frames(audio: Int16Array): { bytes: Uint8Array; samples: Int16Array }[] {
  const out = [];
  for (let at = 0; at + FRAME <= audio.length; at += FRAME) {
    const bytes = new Uint8Array(FRAME);
    encodeMulaw(audio.subarray(at, at + FRAME), bytes);
    const samples = new Int16Array(FRAME);
    decodeMulaw(bytes, samples);
    out.push({ bytes, samples });
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
    for (const frame of frames(audio)) caller.audio(frame.samples, { encoding: 'pcmu', bytes: frame.bytes });

    const forwarded = toAgent.filter((s) => s.forwarded);
    for (const s of forwarded) expect(s.forwarded).toEqual(s.samples);
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
      agent.audio(frame.samples, { encoding: 'pcmu', bytes: frame.bytes });
    });
    const beeped = toCaller.filter((s) => !s.forwarded);
    expect(beeped.length).toBeGreaterThan(0);
    expect(toCaller.slice(0, 5).every((s) => s.forwarded)).toBe(true);
    expect(toCaller.slice(-5).every((s) => s.forwarded)).toBe(true);
    for (const s of toCaller) if (s.forwarded) expect(s.forwarded).toEqual(s.samples);
  });
});
