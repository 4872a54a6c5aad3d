import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { decryptRecording, EncryptedRecordingWriter, readWav, StereoRecorder, withWavSizes, CHUNK_BYTES } from '../../src/media/index.js';
import { Keyring } from '../../src/vault/index.js';

const keyring = () => new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);
const dir = () => mkdtempSync(join(tmpdir(), 'toneguard-rec-'));

function ramp(n: number, from: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => (from + i) % 30000);
}

/** Writes `bytes` plaintext bytes through the encrypted writer. */
async function writeRecording(ring: Keyring, bytes: number): Promise<{ path: string; plain: Buffer }> {
  const path = join(dir(), 'r.tgrec');
  const plain = randomBytes(bytes);
  const writer = new EncryptedRecordingWriter(path, 'rec-1', ring);
  for (let at = 0; at < plain.length; at += 1000) writer.write(plain.subarray(at, at + 1000));
  await writer.close();
  return { path, plain };
}

/** Offsets of each chunk record (length-prefixed) after the header. */
function chunkOffsets(file: Buffer): number[] {
  let at = 7 + 4 + file.readUInt32BE(7);
  const offsets: number[] = [];
  while (at < file.length) {
    offsets.push(at);
    at += 4 + 12 + file.readUInt32BE(at) + 16;
  }
  return offsets;
}

describe('encrypted recordings', () => {
  it('reuses its record buffers once written: no chunk-sized allocation per chunk (they outlived the young generation and forced full collections)', async () => {
    const path = join(dir(), 'r.tgrec');
    const plain = randomBytes(CHUNK_BYTES * 40);
    const ring = keyring();
    const writer = new EncryptedRecordingWriter(path, 'rec-1', ring);
    const sizes: number[] = [];
    const count = (size: number) => void (size >= CHUNK_BYTES && sizes.push(size));
    const { allocUnsafe, allocUnsafeSlow } = Buffer;
    const unsafe = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size) => (count(size), allocUnsafe(size)));
    const slow = vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size) => (count(size), allocUnsafeSlow(size)));
    try {
      for (let at = 0; at < plain.length; at += 640) {
        writer.write(plain.subarray(at, at + 640));
        // As in a call: the disk keeps up between one batch and the next.
        if (at % (CHUNK_BYTES * 2) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await writer.close();
    } finally {
      unsafe.mockRestore();
      slow.mockRestore();
    }
    // Ten batches written: a few buffers in flight while the file opens or the disk lags, then reuse (it was 40, one per chunk).
    expect(sizes.length).toBeLessThanOrEqual(6);
    expect(decryptRecording(path, ring).equals(plain)).toBe(true);
  });

  it('round-trip across several chunks, with no plaintext on disk', async () => {
    const ring = keyring();
    const { path, plain } = await writeRecording(ring, CHUNK_BYTES * 2 + 5000);
    const file = readFileSync(path);
    expect(file.includes(plain.subarray(0, 64))).toBe(false);
    // The first chunk is of random length (see the next test), then full chunks, then the final one.
    expect(chunkOffsets(file).length).toBeGreaterThanOrEqual(3);
    expect(chunkOffsets(file).length).toBeLessThanOrEqual(4);
    expect(decryptRecording(path, ring).equals(plain)).toBe(true);
  });

  it('start on a random phase: recordings begun together encrypt and write their chunks at different moments', async () => {
    const ring = keyring();
    const firsts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const file = readFileSync((await writeRecording(ring, CHUNK_BYTES * 3)).path);
      const [first, second] = chunkOffsets(file);
      const length = file.readUInt32BE(first);
      expect(length % 4).toBe(0);
      expect(length).toBeGreaterThanOrEqual(CHUNK_BYTES / 4);
      expect(file.readUInt32BE(second)).toBe(CHUNK_BYTES);
      firsts.push(length);
    }
    expect(new Set(firsts).size).toBeGreaterThan(1);
  });

  it('refuse a flipped byte, reordered chunks, a dropped final chunk, and a foreign keyring', async () => {
    const ring = keyring();
    const { path } = await writeRecording(ring, CHUNK_BYTES * 2 + 5000);
    const file = readFileSync(path);
    const [a, b, c] = chunkOffsets(file);

    const flipped = Buffer.from(file);
    flipped[b + 40] ^= 1;
    writeFileSync(path, flipped);
    expect(() => decryptRecording(path, ring)).toThrow(expect.objectContaining({ code: 'recording_corrupt' }));

    writeFileSync(path, Buffer.concat([file.subarray(0, a), file.subarray(b, c), file.subarray(a, b), file.subarray(c)]));
    expect(() => decryptRecording(path, ring)).toThrow(expect.objectContaining({ code: 'recording_corrupt' }));

    writeFileSync(path, file.subarray(0, c));
    expect(() => decryptRecording(path, ring)).toThrow(expect.objectContaining({ code: 'recording_corrupt' }));

    writeFileSync(path, file);
    expect(() => decryptRecording(path, keyring())).toThrow();
    expect(decryptRecording(path, ring).length).toBe(CHUNK_BYTES * 2 + 5000);
  });

  it('interleave caller left and agent right as a stereo WAV, a stalled leg reading as silence', async () => {
    const chunks: Buffer[] = [];
    const recorder = new StereoRecorder({ write: (d) => void chunks.push(Buffer.from(d)), close: () => undefined });
    for (let i = 0; i < 50; i++) {
      recorder.writeCaller(ramp(160, i * 160));
      recorder.writeAgent(ramp(160, 20000 + i * 160));
    }
    for (let i = 0; i < 150; i++) recorder.writeCaller(ramp(160, 8000 + i * 160));
    await recorder.close();
    const wav = readWav(withWavSizes(Buffer.concat(chunks)));
    expect(wav?.sampleRate).toBe(8000);
    const [left, right] = wav?.channels ?? [];
    expect(left.length).toBe(200 * 160);
    expect(left.subarray(0, 8000)).toEqual(ramp(8000, 0));
    expect(right.subarray(0, 8000)).toEqual(ramp(8000, 20000));
    expect(right.subarray(8000).every((s) => s === 0)).toBe(true);
  });
});
