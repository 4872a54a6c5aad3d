import bencode from 'bencode';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWellFormedBencode } from '../../../src/telephony/sip/ng/bencode-gate.js';
import { decodeDocument, encodeDocument, NgDocumentError, type NgDict, type NgValue } from '../../../src/telephony/sip/ng/document.js';

/** `__proto__` keys are left out: the package turns them into prototypes, so they are dropped (tested below). */
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
/** Values ng documents carry: strings (the SDP's CRLFs and any unicode), safe integers, lists, dictionaries. */
const ngValue: fc.Arbitrary<NgValue> = fc.letrec<{ value: NgValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;
const ngDict = fc.dictionary(key, ngValue, { maxKeys: 8 }) as fc.Arbitrary<NgDict>;

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('ng documents: bencode through the maintained package, behind a well-formedness gate', () => {
  it('round-trips any dictionary, in bencode and in JSON', () => {
    fc.assert(
      fc.property(ngDict, (dict) => {
        for (const format of ['bencode', 'json'] as const) {
          const decoded = decodeDocument(encodeDocument(format, dict));
          expect(decoded.format).toBe(format);
          expect(plain(decoded.dict)).toEqual(plain(dict));
        }
      }),
    );
  });

  it('admits everything the package encodes', () => {
    fc.assert(
      fc.property(ngDict, (dict) => {
        expect(isWellFormedBencode(bencode.encode(dict))).toBe(true);
      }),
    );
  });

  it('never hangs or throws anything but a decoding error on arbitrary bytes', () => {
    const bencodeish = fc.array(fc.constantFrom('d', 'l', 'i', 'e', ':', '-', '0', '1', '3', '9', 'x', '4:spam', '-3:', 'i-e'), { maxLength: 40 }).map((parts) => Buffer.from(`d${parts.join('')}`));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), bencodeish), (bytes) => {
        try {
          decodeDocument(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(NgDocumentError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a negative string length, which makes the bare package loop forever', () => {
    // bencode@4 moves its cursor back by the negative length: `l-3:e` never returns without the gate.
    for (const input of ['d1:al-3:ee', 'd1:a-3:e', 'dl-3:ee']) {
      expect(isWellFormedBencode(Buffer.from(input))).toBe(false);
      expect(() => decodeDocument(Buffer.from(input))).toThrow(NgDocumentError);
    }
  });

  it('refuses nesting deeper than any ng message, instead of recursing once per level', () => {
    const deep = Buffer.from(`d1:a${'l'.repeat(60_000)}${'e'.repeat(60_000)}e`);
    expect(() => decodeDocument(deep)).toThrow(NgDocumentError);
    const deepJson = Buffer.from(`{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
    expect(() => decodeDocument(deepJson)).toThrow(NgDocumentError);
  });

  it('refuses lengths past the end, non-string keys, unmatched ends and bad integers', () => {
    for (const input of ['d3:abce', 'di1ei2ee', 'd1:ai1e', 'd1:ai-ee', 'd1:ai1xee', 'd1:a99999999999:xe', 'e', 'd1:a', 'd1:ad']) {
      expect(() => decodeDocument(Buffer.from(input)), input).toThrow(NgDocumentError);
    }
  });

  it('keeps a __proto__ key from reaching any prototype', () => {
    const { dict } = decodeDocument(Buffer.from('{"__proto__":{"polluted":"yes"},"command":"ping"}'));
    expect(Object.getPrototypeOf(dict)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const fromBencode = decodeDocument(Buffer.from('d9:__proto__d8:polluted3:yese7:command4:pinge')).dict;
    expect(fromBencode.command).toBe('ping');
    expect((fromBencode as Record<string, unknown>).polluted).toBeUndefined();
    // A byte-string `__proto__` turns the package's dictionary into a would-be Uint8Array (found by test/security/fuzz-ng).
    const hijacked = decodeDocument(Buffer.from('d9:__proto__3:abc7:command4:pinge')).dict;
    expect(hijacked.command).toBe('ping');
  });

  it('says "Invalid NG data format" for a document that is neither bencode nor JSON', () => {
    expect(() => decodeDocument(Buffer.from('hello'))).toThrow('Invalid NG data format');
  });
});
