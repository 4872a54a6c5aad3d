import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CaptureCheckpoint, CheckpointRequest } from '../capture/checkpoint.js';
import type { CaptureView } from '../capture/types.js';
import { ToneguardError } from '../errors.js';
import type { KeyringPort, WrappedKey } from '../vault/types.js';

/**
 * A checkpoint as it may leave the node: the request and the redacted view in the clear (any node
 * needs them to fail an orphaned capture), the completed values sealed with AES-256-GCM under a
 * fresh data key wrapped by the keyring. Everything in the clear is authenticated with the values.
 */
export interface SealedCheckpoint {
  v: 1;
  captureId: string;
  callSid: string;
  /** The node whose session this is. */
  owner: string;
  /** Epoch ms. */
  savedAt: number;
  request: CheckpointRequest;
  view: CaptureView;
  key: WrappedKey;
  /** base64url */
  iv: string;
  data: string;
  tag: string;
}

const dataKeyAad = (captureId: string, callSid: string) => `toneguard capture checkpoint v1|${captureId}|${callSid}`;

/** The authenticated data: every clear field, so that none can be swapped or edited. */
const clearPart = (sealed: Omit<SealedCheckpoint, 'key' | 'iv' | 'data' | 'tag'>) =>
  Buffer.from(JSON.stringify([sealed.v, sealed.captureId, sealed.callSid, sealed.owner, sealed.savedAt, sealed.request, sealed.view]), 'utf8');

/** name length (u16), name, value length (u8), value; repeated. */
function encodeValues(values: ReadonlyMap<string, Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of values) {
    const nameBytes = Buffer.from(name, 'utf8');
    const head = Buffer.alloc(3);
    head.writeUInt16BE(nameBytes.length, 0);
    head.writeUInt8(value.length, 2);
    parts.push(head.subarray(0, 2), nameBytes, head.subarray(2), Buffer.from(value));
  }
  const plain = Buffer.concat(parts);
  // The copies made above are zeroed; only `plain` (zeroed by the caller) remains.
  for (const part of parts) part.fill(0);
  return plain;
}

function decodeValues(plain: Buffer): Map<string, Uint8Array> {
  const values = new Map<string, Uint8Array>();
  let at = 0;
  while (at < plain.length) {
    const nameLength = plain.readUInt16BE(at);
    const name = plain.subarray(at + 2, at + 2 + nameLength).toString('utf8');
    const valueLength = plain.readUInt8(at + 2 + nameLength);
    const start = at + 3 + nameLength;
    values.set(name, Uint8Array.from(plain.subarray(start, start + valueLength)));
    at = start + valueLength;
  }
  return values;
}

/** Seals a checkpoint for `owner`; the caller still owns (and zeroes) `checkpoint.completed`. */
export function sealCheckpoint(keyring: KeyringPort, checkpoint: CaptureCheckpoint, owner: string, savedAt: number): SealedCheckpoint {
  const clear = { v: 1 as const, captureId: checkpoint.captureId, callSid: checkpoint.callSid, owner, savedAt, request: checkpoint.request, view: checkpoint.view };
  const { key, wrapped } = keyring.newDataKey(dataKeyAad(checkpoint.captureId, checkpoint.callSid));
  const iv = randomBytes(12);
  const plain = encodeValues(checkpoint.completed);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(clearPart(clear));
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { ...clear, key: wrapped, iv: iv.toString('base64url'), data: data.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
  } finally {
    plain.fill(0);
    key.fill(0);
  }
}

/** Opens a sealed checkpoint; anything altered → ToneguardError `checkpoint_invalid`, never a guess. */
export function openCheckpoint(keyring: KeyringPort, sealed: SealedCheckpoint): CaptureCheckpoint {
  let key: Buffer | undefined;
  let plain: Buffer | undefined;
  try {
    if (sealed.v !== 1) throw new Error('version');
    key = keyring.unwrapDataKey(sealed.key, dataKeyAad(sealed.captureId, sealed.callSid));
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
    decipher.setAAD(clearPart(sealed));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]);
    return { captureId: sealed.captureId, callSid: sealed.callSid, request: sealed.request, view: sealed.view, completed: decodeValues(plain) };
  } catch {
    throw new ToneguardError('checkpoint_invalid', 'A capture checkpoint failed its integrity check', 500);
  } finally {
    key?.fill(0);
    plain?.fill(0);
  }
}
