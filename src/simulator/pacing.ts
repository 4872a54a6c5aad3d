import type { DtmfDigit } from '../dsp/index.js';
import type { KeyedAudio } from './audio.js';

/** The simulator's media frames: 20 ms at 8 kHz. */
export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

/** A media stream client of any platform, as far as pacing needs it. */
export interface FrameSink {
  readonly open: boolean;
  sendAudio(samples: Int16Array): void;
}

/**
 * Sends `audio` in 20 ms frames, paced at `speed`× real time against the clock (no drift).
 * `onFrame` may add events between frames (e.g. a DTMF event at a tone's end).
 */
export async function streamAudio(client: FrameSink, audio: Int16Array, speed = 1, onFrame?: (frameIndex: number) => void): Promise<void> {
  const frames = Math.ceil(audio.length / FRAME_SAMPLES);
  const started = performance.now();
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < frames && client.open; i++) {
    frame.fill(0);
    frame.set(audio.subarray(i * FRAME_SAMPLES, Math.min(audio.length, (i + 1) * FRAME_SAMPLES)));
    client.sendAudio(frame);
    onFrame?.(i);
    const wait = started + ((i + 1) * FRAME_MS) / speed - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Plays keyed caller audio, calling `dtmf` at each tone's end (as platforms send their DTMF events). */
export async function playKeyed(client: FrameSink, audio: Int16Array | KeyedAudio, speed: number, dtmf?: (digit: DtmfDigit) => void): Promise<void> {
  const keyed = audio instanceof Int16Array ? { audio, keyEnds: [] } : audio;
  let next = 0;
  await streamAudio(client, keyed.audio, speed, (frame) => {
    const frameEnd = (frame + 1) * FRAME_SAMPLES;
    while (next < keyed.keyEnds.length && keyed.keyEnds[next].endSample <= frameEnd) {
      dtmf?.(keyed.keyEnds[next].digit);
      next++;
    }
  });
}
