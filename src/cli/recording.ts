import { loadConfig } from '../config/index.js';
import { createDtmfDetector } from '../dsp/index.js';
import { isToneguardError } from '../errors.js';
import { decryptRecording, readWav, withWavSizes } from '../media/index.js';
import { loadKeyring } from '../vault/index.js';
import { usageError, type ParsedArgs } from './args.js';

const CHANNEL_NAMES = ['caller', 'agent'];

function countDigits(samples: Int16Array): number {
  let digits = 0;
  const detector = createDtmfDetector({ digitStart: () => void digits++ });
  detector.process(samples);
  detector.flush();
  return digits;
}

/**
 * `toneguard recording verify FILE`: decrypts a recording with the configured keyring and scans
 * both channels for DTMF. Exit 0 when none remains, 1 when digits are found, 2 on usage or
 * decryption errors. The summary holds counts only, never a digit.
 */
export async function recordingVerifyCommand(args: ParsedArgs): Promise<number> {
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw usageError('usage: toneguard recording verify FILE');
  const config = loadConfig();
  let wav: Buffer;
  try {
    const { keyring } = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
    wav = withWavSizes(decryptRecording(file, keyring));
  } catch (err) {
    const code = isToneguardError(err) ? err.code : 'recording_unreadable';
    const message = isToneguardError(err) ? err.message : 'The recording could not be read';
    process.stderr.write(`recording verify: ${code}: ${message}\n`);
    return 2;
  }
  const audio = readWav(wav);
  if (!audio) {
    process.stderr.write('recording verify: recording_corrupt: the decrypted data is not a 16-bit PCM WAV\n');
    return 2;
  }
  const channels = audio.channels.map((samples, i) => ({ name: CHANNEL_NAMES[i] ?? `channel${i}`, digitsFound: countDigits(samples) }));
  const clean = channels.every((c) => c.digitsFound === 0);
  const durationMs = Math.round(((audio.channels[0]?.length ?? 0) * 1000) / audio.sampleRate);
  process.stdout.write(`${JSON.stringify({ file, clean, durationMs, sampleRate: audio.sampleRate, channels })}\n`);
  return clean ? 0 : 1;
}
