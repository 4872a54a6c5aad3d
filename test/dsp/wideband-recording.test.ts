import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { createToneMasker, type SampleRate } from '../../src/dsp/index.js';
import { decryptRecording, EncryptedRecordingWriter, readWav, StereoRecorder, withWavSizes } from '../../src/media/index.js';
import { verifyRecording } from '../../src/media/recording-verify.js';
import { Keyring, loadKeyring } from '../../src/vault/index.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { withHeader } from '../helpers/recording-files.js';
import { judged } from './judges.js';
import { concat, digitTone, keypresses, silence, toInt16 } from './signals.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-rec16-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The master key test/dsp/fixtures/legacy-8k.tgrec was written under (by the writer as it was before recordings named their rate). */
const legacyKeyring = () => new Keyring([{ version: 1, key: Buffer.alloc(32, 0x5a), createdAt: null }]);
const LEGACY = new URL('./fixtures/legacy-8k.tgrec', import.meta.url).pathname;

/**
 * A call's recording at `sampleRate`: the caller's keyed card digits through the masker at that
 * rate (left), the agent saying one '5' unmasked (right), in 20 ms frames.
 */
async function record(path: string, keyring: Keyring, sampleRate: SampleRate, wavRate: SampleRate = sampleRate): Promise<Int16Array> {
  const recorder = new StereoRecorder(new EncryptedRecordingWriter(path, 'call-16k', keyring, sampleRate), wavRate);
  const caller = toInt16(keypresses('4111111111111111', { sampleRate: wavRate }).signal);
  const agent = toInt16(concat(silence(300, wavRate), digitTone('5', 80, { sampleRate: wavRate })));
  const masker = createToneMasker({ sampleRate: wavRate });
  const masked = new Int16Array(caller.length);
  const frame = wavRate / 50;
  for (let at = 0; at < caller.length; at += frame) {
    masker.process(caller.subarray(at, at + frame), masked.subarray(at, at + frame));
    recorder.writeCaller(masked.subarray(at, at + frame));
    recorder.writeAgent(agent.subarray(Math.min(at, agent.length), Math.min(at + frame, agent.length)));
  }
  await recorder.close();
  return masked;
}

describe('16 kHz recordings', () => {
  it('round-trip: the header names 16000, the WAV is 16 kHz stereo, and verify scans it at 16 kHz', async () => {
    const ring = new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);
    const path = join(tempDir(), 'call.tgrec');
    const masked = await record(path, ring, 16000);
    const recording = decryptRecording(path, ring);
    expect(recording.sampleRate).toBe(16000);
    const wav = readWav(withWavSizes(recording));
    expect(wav?.sampleRate).toBe(16000);
    expect(wav?.channels).toHaveLength(2);
    expect(Array.from(wav?.channels[0] ?? [])).toEqual(Array.from(masked));
    expect(judged(wav?.channels[0] ?? new Int16Array(0), 16000)).toEqual({ multimon: '', spandsp: '', receiver: '' });
    const verified = verifyRecording(path, ring);
    expect(verified).toMatchObject({
      ok: true,
      clean: false,
      sampleRate: 16000,
      durationMs: Math.round((masked.length * 1000) / 16000),
      channels: [
        { name: 'caller', digitsFound: 0 },
        { name: 'agent', digitsFound: 1 },
      ],
    });
  });

  it('old 8 kHz recordings (no rate in the header) still decrypt and verify as 8 kHz', () => {
    const recording = decryptRecording(LEGACY, legacyKeyring());
    expect(recording.sampleRate).toBe(8000);
    expect(JSON.parse(readFileSync(LEGACY).subarray(11, 11 + readFileSync(LEGACY).readUInt32BE(7)).toString('utf8'))).not.toHaveProperty('sampleRate');
    expect(verifyRecording(LEGACY, legacyKeyring())).toMatchObject({
      ok: true,
      sampleRate: 8000,
      durationMs: 600,
      channels: [
        { name: 'caller', digitsFound: 0 },
        { name: 'agent', digitsFound: 1 },
      ],
    });
  });

  it('refuses a header whose rate was altered or stripped, and a WAV at another rate than the header names', async () => {
    const ring = new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);
    const dir = tempDir();
    const path = join(dir, 'call.tgrec');
    await record(path, ring, 16000);
    const file = readFileSync(path);
    const edits: ((h: Record<string, unknown>) => Record<string, unknown>)[] = [
      (h) => ({ ...h, sampleRate: 8000 }),
      ({ sampleRate: _dropped, ...h }) => h,
      (h) => ({ ...h, sampleRate: 44100 }),
    ];
    for (const edit of edits) {
      const tampered = join(dir, 'tampered.tgrec');
      writeFileSync(tampered, withHeader(file, edit));
      expect(() => decryptRecording(tampered, ring)).toThrow(expect.objectContaining({ code: 'recording_corrupt' }));
      expect(verifyRecording(tampered, ring)).toMatchObject({ ok: false, code: 'recording_corrupt' });
    }
    const mislabelled = join(dir, 'mislabelled.tgrec');
    await record(mislabelled, ring, 16000, 8000);
    expect(verifyRecording(mislabelled, ring)).toMatchObject({ ok: false, code: 'recording_corrupt' });
  });

  it('toneguard recording verify reports a 16 kHz recording, counts only', async () => {
    const dataDir = tempDir();
    const { keyring } = loadKeyring(parseConfig({ dataDir }), { dataDir, profile: 'development' });
    const path = join(dataDir, 'call.tgrec');
    await record(path, keyring, 16000);
    const result = runCli(['recording', 'verify', path], { env: { TONEGUARD_DATA_DIR: dataDir } });
    expect(result.status).toBe(1);
    expect(lastJsonLine(result.stdout)).toMatchObject({
      sampleRate: 16000,
      clean: false,
      channels: [
        { name: 'caller', digitsFound: 0 },
        { name: 'agent', digitsFound: 1 },
      ],
    });
    expect(result.stdout).not.toContain('4111');
  }, 120_000);
});
