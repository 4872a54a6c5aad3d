import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createToneMasker, decode, encode, type AudioEncoding } from '../../src/dsp/index.js';
import { decryptRecording, EncryptedRecordingWriter, readWav, StereoRecorder, withWavSizes } from '../../src/media/index.js';
import { verifyRecording } from '../../src/media/recording-verify.js';
import { NO_MESSAGE } from '../../src/media/types.js';
import { Keyring } from '../../src/vault/index.js';
import { judged } from '../dsp/judges.js';
import { concat, digitTone, keypresses, silence, toInt16 } from '../dsp/signals.js';
import { headerOf, withHeader } from '../helpers/recording-files.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'toneguard-rec711-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const keyring = () => new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);

/** What a G.711 leg carries of `samples`: encoded and decoded again. */
function throughCodec(encoding: AudioEncoding, samples: Int16Array): Int16Array {
  const bytes = new Uint8Array(samples.length);
  encode(encoding, samples, bytes);
  const out = new Int16Array(samples.length);
  decode(encoding, bytes, out);
  return out;
}

/** A narrowband call recorded as `encoding`: keyed card digits through the masker (left), the agent saying one '5' (right), in 20 ms frames. */
async function record(path: string, ring: Keyring, encoding: AudioEncoding): Promise<{ caller: Int16Array; agent: Int16Array }> {
  const recorder = new StereoRecorder(new EncryptedRecordingWriter(path, 'call-g711', ring, 8000, encoding), 8000, encoding);
  const caller = throughCodec(encoding, toInt16(keypresses('4111111111111111').signal));
  const agent = throughCodec(encoding, toInt16(concat(silence(300), digitTone('5', 80), silence(caller.length / 8 - 380))));
  const masker = createToneMasker({ sampleRate: 8000 });
  const masked = new Int16Array(caller.length);
  for (let at = 0; at < caller.length; at += 160) {
    masker.process(caller.subarray(at, at + 160), masked.subarray(at, at + 160));
    recorder.writeCaller(masked.subarray(at, at + 160));
    recorder.writeAgent(agent.subarray(at, at + 160));
  }
  await recorder.close();
  return { caller: masked, agent };
}

describe('recordings of G.711 calls', () => {
  it.each(['pcmu', 'pcma'] as const)('%s: stored in the codec, read back as the 16-bit PCM WAV a PCM recording gives, in about half the bytes', async (encoding) => {
    const ring = keyring();
    const dir = tempDir();
    const path = join(dir, 'call.tgrec');
    const { caller, agent } = await record(path, ring, encoding);
    expect(headerOf(readFileSync(path))).toMatchObject({ sampleRate: 8000, encoding });
    const recording = decryptRecording(path, ring);
    expect(recording.sampleRate).toBe(8000);
    const wav = readWav(withWavSizes(recording));
    // What the agent heard of the masked caller (the codec's output), and the agent as the caller heard it.
    expect(Array.from(wav?.channels[0] ?? [])).toEqual(Array.from(throughCodec(encoding, caller)));
    expect(Array.from(wav?.channels[1] ?? [])).toEqual(Array.from(agent));
    expect(judged(wav?.channels[0] ?? new Int16Array(0), 8000)).toEqual({ multimon: '', spandsp: '', receiver: '' });
    expect(verifyRecording(path, ring)).toMatchObject({ ok: true, sampleRate: 8000, channels: [{ name: 'caller', digitsFound: 0 }, { name: 'agent', digitsFound: 1 }] });

    const pcmPath = join(dir, 'pcm.tgrec');
    await record(pcmPath, ring, 'l16');
    expect(statSync(path).size / statSync(pcmPath).size).toBeLessThan(0.52);
  });

  it('refuses a header whose encoding was stripped, swapped or unknown', async () => {
    const ring = keyring();
    const dir = tempDir();
    const path = join(dir, 'call.tgrec');
    await record(path, ring, 'pcmu');
    const file = readFileSync(path);
    const edits: ((h: Record<string, unknown>) => Record<string, unknown>)[] = [
      ({ encoding: _dropped, ...h }) => h,
      (h) => ({ ...h, encoding: 'pcma' }),
      (h) => ({ ...h, encoding: 'gsm' }),
    ];
    for (const edit of edits) {
      const tampered = join(dir, 'tampered.tgrec');
      writeFileSync(tampered, withHeader(file, edit));
      expect(() => decryptRecording(tampered, ring)).toThrow(expect.objectContaining({ code: 'recording_corrupt' }));
    }
  });

  it('stores the codec bytes a frame was sent as, where offered, and encodes the rest; a short leg pads with the codec\'s silence', async () => {
    const written: Buffer[] = [];
    const recorder = new StereoRecorder({ write: (d) => void written.push(Buffer.from(d)), close: () => undefined }, 8000, 'pcmu');
    // 0x7f is μ-law's "negative zero": it decodes to 0, which encodes as 0xff; only the bytes as sent keep it.
    const sent = Uint8Array.from({ length: 160 }, (_, i) => (i % 2 ? 0x7f : (i * 7) & 255));
    const samples = new Int16Array(160);
    decode('pcmu', sent, samples);
    const agent = Int16Array.from({ length: 160 }, (_, i) => (i * 97) % 8000);
    recorder.writeCaller(samples, { encoding: 'pcmu', bytes: sent, message: NO_MESSAGE, base64Start: 0, base64End: 0 });
    recorder.writeAgent(agent);
    // A caller frame without an agent one: flushed at close, the agent side padded.
    recorder.writeCaller(samples, { encoding: 'pcma', bytes: sent, message: NO_MESSAGE, base64Start: 0, base64End: 0 });
    await recorder.close();
    const data = Buffer.concat(written).subarray(44);
    expect(data.length).toBe(640);
    const expectedAgent = new Uint8Array(160);
    encode('pcmu', agent, expectedAgent);
    const reencoded = new Uint8Array(160);
    encode('pcmu', samples, reencoded);
    for (let i = 0; i < 160; i++) {
      expect(data[2 * i]).toBe(sent[i]);
      expect(data[2 * i + 1]).toBe(expectedAgent[i]);
      // Bytes in another codec than the recording's are not taken: the samples are encoded.
      expect(data[320 + 2 * i]).toBe(reencoded[i]);
      expect(data[320 + 2 * i + 1]).toBe(0xff);
    }
  });
});
