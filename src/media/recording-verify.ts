import { detect } from '../dsp/detect-events.js';
import type { SampleRate } from '../dsp/index.js';
import { isToneguardError } from '../errors.js';
import type { KeyringPort } from '../vault/types.js';
import { decryptRecording } from './recording-format.js';
import { readWav, withWavSizes } from './wav.js';

const CHANNEL_NAMES = ['caller', 'agent'];

export type RecordingVerification =
  | { ok: true; clean: boolean; durationMs: number; sampleRate: number; channels: { name: string; digitsFound: number }[] }
  | { ok: false; code: string; message: string };

/**
 * Decrypts a recording and runs an independent tone scan over every channel: clean when no DTMF
 * remains. Counts only, never a digit. The check behind `recording verify` and the evidence report.
 */
export function verifyRecording(file: string, keyring: KeyringPort): RecordingVerification {
  let wav: Buffer;
  let sampleRate: SampleRate;
  try {
    const recording = decryptRecording(file, keyring);
    sampleRate = recording.sampleRate;
    wav = withWavSizes(recording);
  } catch (err) {
    if (isToneguardError(err)) return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: 'recording_unreadable', message: 'The recording could not be read' };
  }
  const audio = readWav(wav);
  if (!audio) return { ok: false, code: 'recording_corrupt', message: 'the decrypted data is not a 16-bit PCM WAV' };
  if (audio.sampleRate !== sampleRate) return { ok: false, code: 'recording_corrupt', message: `the WAV is at ${audio.sampleRate} Hz but the recording header names ${sampleRate} Hz` };
  // The scan runs at the recording's own rate: the 16 kHz detector judges 16 kHz audio natively.
  const channels = audio.channels.map((samples, i) => ({ name: CHANNEL_NAMES[i] ?? `channel${i}`, digitsFound: detect(samples, undefined, sampleRate).length }));
  const durationMs = Math.round(((audio.channels[0]?.length ?? 0) * 1000) / audio.sampleRate);
  return { ok: true, clean: channels.every((c) => c.digitsFound === 0), durationMs, sampleRate: audio.sampleRate, channels };
}
