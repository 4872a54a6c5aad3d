import bencode from 'bencode';
import { isWellFormedBencode, MAX_BENCODE_DEPTH } from './bencode-gate.js';

/** A decoded ng value: strings (bencode byte strings read as UTF-8), integers, lists, dictionaries. */
export type NgValue = string | number | NgValue[] | NgDict;
/** Own keys only, on a null prototype: no key of the input (`__proto__` included) can reach a prototype. */
export type NgDict = { [key: string]: NgValue };

/** rtpengine answers in the encoding it was asked in: bencode (`d…`) or JSON (`{…}`). */
export type NgFormat = 'bencode' | 'json';

export class NgDocumentError extends Error {}

/** Decodes an ng document (after the cookie); throws `NgDocumentError` with rtpengine's wording. */
export function decodeDocument(bytes: Uint8Array): { format: NgFormat; dict: NgDict } {
  const first = bytes[0];
  if (first === 0x64) {
    if (!isWellFormedBencode(bytes)) throw new NgDocumentError('Could not decode dictionary');
    return { format: 'bencode', dict: asDict(fromBencode(bencode.decode(bytes), 0)) };
  }
  if (first === 0x7b) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      throw new NgDocumentError('Could not decode dictionary');
    }
    return { format: 'json', dict: asDict(fromJson(parsed, 0)) };
  }
  throw new NgDocumentError('Invalid NG data format');
}

/** Encodes a reply document in the request's format. */
export function encodeDocument(format: NgFormat, dict: NgDict): Buffer {
  return format === 'json' ? Buffer.from(JSON.stringify(dict), 'utf8') : Buffer.from(bencode.encode(dict));
}

function asDict(value: NgValue | undefined): NgDict {
  if (value === undefined || typeof value !== 'object' || Array.isArray(value)) throw new NgDocumentError('Could not decode dictionary');
  return value;
}

function newDict(): NgDict {
  return Object.create(null) as NgDict;
}

function fromBencode(value: unknown, depth: number): NgValue | undefined {
  // Not `instanceof`: the package assigns a `__proto__` key as a prototype, so a dictionary can inherit from Uint8Array.
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  return fromContainer(value, depth, fromBencode);
}

function fromJson(value: unknown, depth: number): NgValue | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return fromContainer(value, depth, fromJson);
}

/** Lists and dictionaries, copied own key by own key; values that are not ng values (null, floats) are left out. */
function fromContainer(value: unknown, depth: number, item: (v: unknown, depth: number) => NgValue | undefined): NgValue | undefined {
  if (depth >= MAX_BENCODE_DEPTH) throw new NgDocumentError('Could not decode dictionary');
  if (Array.isArray(value)) return value.map((v) => item(v, depth + 1)).filter((v): v is NgValue => v !== undefined);
  if (typeof value !== 'object' || value === null) return undefined;
  const dict = newDict();
  for (const key of Object.keys(value)) {
    const converted = item((value as Record<string, unknown>)[key], depth + 1);
    if (converted !== undefined) dict[key] = converted;
  }
  return dict;
}
