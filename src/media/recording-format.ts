import { createCipheriv, createDecipheriv, randomFillSync, randomInt } from 'node:crypto';
import { closeSync, createWriteStream, openSync, readSync, renameSync, type WriteStream } from 'node:fs';
import { decode, type SampleRate } from '../dsp/index.js';
import { ToneguardError } from '../errors.js';
import type { KeyringPort, WrappedKey } from '../vault/types.js';
import { parseWav, wavHeader, type WavEncoding } from './wav.js';

/**
 * Encrypted recording file:
 *   "TGREC1\n" ‖ u32 header length ‖ header JSON ‖ chunk*
 *   chunk = u32 ciphertext length ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag
 * Each chunk is AES-256-GCM under the recording's data key, with the recording id, the chunk
 * index and the final flag as AAD: chunks cannot be reordered, dropped or cut off unnoticed.
 * The header names the audio's sample rate (`sampleRate`, 8000 or 16000), which the AAD binds
 * too, so it cannot be altered or stripped unnoticed; recordings from before it have no
 * `sampleRate`, no rate in their AAD, and are 8 kHz. A recording of a G.711 call keeps its audio
 * as a G.711 WAV and says so in `encoding` (bound into the AAD the same way); the reader expands
 * it, so every recording reads as the same 16-bit PCM WAV stream.
 */
const MAGIC = Buffer.from('TGREC1\n');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Plaintext bytes per chunk: about 0.5 s of stereo 16-bit 8 kHz audio (1 s as G.711, 0.25 s at 16 kHz), so each encryption is short. */
export const CHUNK_BYTES = 16 * 1024;
/** Chunk records gathered into one file write (2 s of 16-bit narrowband audio, 4 s of G.711): a quarter of the system calls. */
const CHUNKS_PER_WRITE = 4;
/** One chunk record at most: length, nonce, ciphertext, tag. */
const RECORD_BYTES = 4 + NONCE_BYTES + CHUNK_BYTES + TAG_BYTES;

interface RecordingHeader {
  id: string;
  key: WrappedKey;
  /** Absent in recordings made before wideband: those are 8 kHz. */
  sampleRate?: SampleRate;
  /** The stored WAV's G.711 codec; absent for 16-bit PCM (every recording before this field). */
  encoding?: Exclude<WavEncoding, 'l16'>;
}

/** Decrypted recording bytes (the WAV stream as written) carrying the rate the header names. */
export type DecryptedRecording = Buffer & { readonly sampleRate: SampleRate };

function dataKeyAad(id: string): string {
  return `toneguard-recording:${id}`;
}

function chunkAad(header: RecordingHeader, index: number, final: boolean): Buffer {
  const rated = header.sampleRate === undefined ? header.id : `${header.id}@${header.sampleRate}`;
  const stream = header.encoding === undefined ? rated : `${rated}/${header.encoding}`;
  return Buffer.from(`${stream}:${index}:${final ? 1 : 0}`);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** Suffix of a recording still being written; renamed to its final name once the final chunk is on disk. */
export const PARTIAL_SUFFIX = '.partial';

/**
 * Streams plaintext into an encrypted recording file, one 16 KiB chunk at a time. Writes are
 * asynchronous (a slow disk never stalls the media path); the file appears under `path` only
 * once complete.
 */
export class EncryptedRecordingWriter {
  private readonly out: WriteStream;
  private readonly key: Buffer;
  private readonly pending = Buffer.alloc(CHUNK_BYTES);
  private pendingBytes = 0;
  private index = 0;
  /** The batch of records being filled, and written batches back from the stream for reuse. */
  private batch: Buffer | undefined;
  private batchBytes = 0;
  private readonly batches: Buffer[] = [];
  /**
   * The first chunk and the first batch are of random length, later ones full: calls that start
   * together (a burst of calls, or every call of a lost node resuming at once) then encrypt and
   * write at different moments, instead of 200 calls writing in the same few milliseconds every
   * two seconds, which stalled the media path for tens of milliseconds.
   */
  private chunkLimit = CHUNK_BYTES - 4 * randomInt((3 * CHUNK_BYTES) / 16);
  private chunksToWrite = 1 + randomInt(CHUNKS_PER_WRITE);
  private readonly header: RecordingHeader;
  private closing: Promise<void> | undefined;
  /** The first write error (a full disk): the recording stops there, and the call goes on. */
  private failure: Error | undefined;

  /** `sampleRate` is the rate of the audio written (8000 or 16000) and `encoding` its WAV's; both are recorded in the header. */
  constructor(
    readonly path: string,
    id: string,
    keyring: KeyringPort,
    readonly sampleRate: SampleRate = 8000,
    readonly encoding: WavEncoding = 'l16',
  ) {
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new RangeError('sample rate must be 8000 or 16000');
    const { key, wrapped } = keyring.newDataKey(dataKeyAad(id));
    this.key = key;
    this.header = encoding === 'l16' ? { id, key: wrapped, sampleRate } : { id, key: wrapped, sampleRate, encoding };
    this.out = createWriteStream(path + PARTIAL_SUFFIX, { flags: 'wx', mode: 0o600 });
    // Without a listener a write error would be thrown from the event loop and take the process down.
    this.out.on('error', (err) => (this.failure ??= err));
    const header = Buffer.from(JSON.stringify(this.header));
    this.out.write(Buffer.concat([MAGIC, u32(header.length), header]));
  }

  write(data: Uint8Array): void {
    if (this.closing || this.failure) return;
    // Nearly every write (one 20 ms frame) fits in the chunk whole: no view is made for it.
    if (data.length < this.chunkLimit - this.pendingBytes) {
      this.pending.set(data, this.pendingBytes);
      this.pendingBytes += data.length;
      return;
    }
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(this.chunkLimit - this.pendingBytes, data.length - offset);
      this.pending.set(data.subarray(offset, offset + n), this.pendingBytes);
      this.pendingBytes += n;
      offset += n;
      if (this.pendingBytes === this.chunkLimit) this.flushChunk(false);
    }
  }

  /** Writes the final chunk (possibly empty), forgets the key, and moves the file to its final name. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (!this.failure) this.flushChunk(true);
      this.key.fill(0);
      this.pending.fill(0);
      if (this.failure) {
        this.out.destroy();
        return reject(this.failure);
      }
      // `end` hands its callback the stream's error (a full disk on the last write) before the
      // 'error' event: without this check a cut-off recording was renamed as complete.
      this.out.end((err?: Error | null) => {
        if (err) return reject(err);
        try {
          renameSync(this.path + PARTIAL_SUFFIX, this.path);
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    return this.closing;
  }

  /**
   * Encrypts the pending bytes into one chunk record, appended to the current batch (GCM's
   * ciphertext is as long as its plaintext). A batch of CHUNKS_PER_WRITE records is one system
   * call, the final record is written at once.
   */
  private flushChunk(final: boolean): void {
    const length = this.pendingBytes;
    const batch = (this.batch ??= this.batches.pop() ?? Buffer.allocUnsafeSlow(CHUNKS_PER_WRITE * RECORD_BYTES));
    let at = this.batchBytes;
    batch.writeUInt32BE(length, at);
    const nonce = randomFillSync(batch, at + 4, NONCE_BYTES).subarray(at + 4, at + 4 + NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(chunkAad(this.header, this.index, final));
    at += 4 + NONCE_BYTES;
    at += cipher.update(this.pending.subarray(0, length)).copy(batch, at);
    at += cipher.final().copy(batch, at);
    at += cipher.getAuthTag().copy(batch, at);
    this.batchBytes = at;
    this.index++;
    this.pendingBytes = 0;
    this.chunkLimit = CHUNK_BYTES;
    if (final || --this.chunksToWrite === 0) this.writeBatch();
  }

  /**
   * Batches are reused once written: a record buffer per chunk lived until its batch was written
   * (two seconds), so it outlived the young generation, and 200 calls' worth of them made V8 run
   * a full collection every second or so, each a pause of 10–20 ms on the media path.
   */
  private writeBatch(): void {
    const batch = this.batch!;
    this.out.write(batch.subarray(0, this.batchBytes), () => this.batches.push(batch));
    this.batch = undefined;
    this.batchBytes = 0;
    this.chunksToWrite = CHUNKS_PER_WRITE;
  }
}

function corrupt(message: string): ToneguardError {
  return new ToneguardError('recording_corrupt', message, 422);
}

function readExactly(fd: number, length: number, what: string): Buffer {
  const b = Buffer.alloc(length);
  const n = readSync(fd, b, 0, length, null);
  if (n !== length) throw corrupt(`Recording truncated in the ${what}`);
  return b;
}

/**
 * Decrypts a whole recording: its bytes, with `sampleRate` from the header (8000 for recordings
 * from before the header named it). Throws `recording_corrupt` or the keyring's
 * `decrypt_failed`/`key_unknown_version`.
 */
export function decryptRecording(path: string, keyring: KeyringPort): DecryptedRecording {
  const fd = openSync(path, 'r');
  try {
    if (!readExactly(fd, MAGIC.length, 'magic').equals(MAGIC)) throw corrupt('Not a Toneguard recording');
    const headerLength = readExactly(fd, 4, 'header').readUInt32BE();
    if (headerLength > 4096) throw corrupt('Recording header too large');
    let header: RecordingHeader;
    try {
      header = JSON.parse(readExactly(fd, headerLength, 'header').toString('utf8')) as RecordingHeader;
    } catch (err) {
      if (err instanceof ToneguardError) throw err;
      throw corrupt('Recording header unreadable');
    }
    if (header.sampleRate !== undefined && header.sampleRate !== 8000 && header.sampleRate !== 16000) throw corrupt('Recording header names an unsupported sample rate');
    if (header.encoding !== undefined && header.encoding !== 'pcmu' && header.encoding !== 'pcma') throw corrupt('Recording header names an unsupported encoding');
    const key = keyring.unwrapDataKey(header.key, dataKeyAad(header.id));
    const parts: Buffer[] = [];
    for (let index = 0; ; index++) {
      const lengthBytes = Buffer.alloc(4);
      if (readSync(fd, lengthBytes, 0, 4, null) !== 4) throw corrupt('Recording ends without its final chunk');
      const length = lengthBytes.readUInt32BE();
      if (length > CHUNK_BYTES) throw corrupt('Recording chunk too large');
      const nonce = readExactly(fd, NONCE_BYTES, 'chunk');
      const ciphertext = readExactly(fd, length, 'chunk');
      const tag = readExactly(fd, TAG_BYTES, 'chunk');
      const final = openChunk(key, header, index, nonce, ciphertext, tag, parts);
      if (final) {
        if (readSync(fd, Buffer.alloc(1), 0, 1, null) !== 0) throw corrupt('Data after the final chunk');
        key.fill(0);
        const stored = Buffer.concat(parts);
        return Object.assign(header.encoding ? expandG711(stored, header.encoding) : stored, { sampleRate: header.sampleRate ?? 8000 });
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** A stored G.711 WAV stream as the 16-bit PCM WAV stream a PCM recording holds (the same streamed header). */
function expandG711(stored: Buffer, encoding: Exclude<WavEncoding, 'l16'>): Buffer {
  const layout = parseWav(stored);
  if ('error' in layout || layout.encoding !== encoding || layout.channels !== 2) throw corrupt('Recording audio is not the WAV its header names');
  const samples = new Int16Array(layout.dataEnd - layout.dataStart);
  decode(encoding, stored.subarray(layout.dataStart, layout.dataEnd), samples);
  return Buffer.concat([wavHeader(layout.sampleRate, 2, 0xffffffff - 36), Buffer.from(samples.buffer)]);
}

/** Opens one chunk, trying it as a middle chunk then as the final one; returns whether it was final. */
function openChunk(key: Buffer, header: RecordingHeader, index: number, nonce: Buffer, ciphertext: Buffer, tag: Buffer, parts: Buffer[]): boolean {
  for (const final of [false, true]) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(chunkAad(header, index, final));
    decipher.setAuthTag(tag);
    try {
      parts.push(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
      return final;
    } catch {
      // Not authentic under this flag; the other is tried, then the chunk is refused.
    }
  }
  throw corrupt(`Recording chunk ${index} fails authentication`);
}
