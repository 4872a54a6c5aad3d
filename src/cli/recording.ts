import { loadConfig } from '../config/index.js';
import { isToneguardError } from '../errors.js';
import { verifyRecording } from '../media/recording-verify.js';
import { loadKeyring } from '../vault/index.js';
import { usageError, type ParsedArgs } from './args.js';

/**
 * `toneguard recording verify FILE`: decrypts a recording with the configured keyring and scans
 * both channels for DTMF. Exit 0 when none remains, 1 when digits are found, 2 on usage or
 * decryption errors. The summary holds counts only, never a digit.
 */
export async function recordingVerifyCommand(args: ParsedArgs): Promise<number> {
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw usageError('usage: toneguard recording verify FILE');
  const config = loadConfig();
  let result;
  try {
    const { keyring } = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
    result = verifyRecording(file, keyring);
  } catch (err) {
    result = isToneguardError(err) ? { ok: false as const, code: err.code, message: err.message } : { ok: false as const, code: 'recording_unreadable', message: 'The recording could not be read' };
  }
  if (!result.ok) {
    process.stderr.write(`recording verify: ${result.code}: ${result.message}\n`);
    return 2;
  }
  const { ok: _, ...summary } = result;
  process.stdout.write(`${JSON.stringify({ file, clean: summary.clean, durationMs: summary.durationMs, sampleRate: summary.sampleRate, channels: summary.channels })}\n`);
  return summary.clean ? 0 : 1;
}
