/**
 * Byte-level secret search, independent of the code under test: each secret becomes the
 * byte strings a leak would most plausibly take, and artefacts are searched with `Buffer.includes`.
 */

export interface Secret {
  /** How a hit is reported: a label, never the value. */
  label: string;
  value: string;
}

interface Needle {
  label: string;
  bytes: Buffer;
}

/**
 * Base64 of `value` as it would appear inside a longer base64 text, at each of the three byte
 * alignments: the characters whose six bits all come from `value`.
 */
function base64Forms(value: string): string[] {
  return [0, 1, 2].map((lead) => {
    const encoded = Buffer.concat([Buffer.alloc(lead), Buffer.from(value, 'ascii'), Buffer.alloc(3)]).toString('base64');
    return encoded.slice(Math.ceil((8 * lead) / 6), Math.floor((8 * (lead + value.length)) / 6));
  });
}

function groupsOfFour(value: string, separator: string): string {
  return value.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
}

/** A card number in every written form we look for. */
function cardForms(secret: Secret): Needle[] {
  const { label, value } = secret;
  return [
    { label, bytes: Buffer.from(value, 'ascii') },
    { label: `${label} (spaced)`, bytes: Buffer.from(groupsOfFour(value, ' '), 'ascii') },
    { label: `${label} (dashed)`, bytes: Buffer.from(groupsOfFour(value, '-'), 'ascii') },
    { label: `${label} (UTF-16LE)`, bytes: Buffer.from(value, 'utf16le') },
    ...base64Forms(value).map((form, i) => ({ label: `${label} (base64, offset ${i})`, bytes: Buffer.from(form, 'ascii') })),
  ];
}

/**
 * A three- or four-digit value would turn up by chance in ciphertext, PCM and timestamps, so
 * it counts only as a whole delimited value: quoted (JSON), a form value, or an XML text node.
 */
function shortForms(secret: Secret): Needle[] {
  return ['"%"', "'%'", '=%&', '>%<'].map((shape) => ({ label: secret.label, bytes: Buffer.from(shape.replace('%', secret.value), 'ascii') }));
}

export class SecretScanner {
  private readonly needles: Needle[];

  constructor(secrets: { cards: Secret[]; long: Secret[]; short: Secret[] }) {
    this.needles = [
      ...secrets.cards.flatMap(cardForms),
      ...secrets.long.map(({ label, value }) => ({ label, bytes: Buffer.from(value, 'ascii') })),
      ...secrets.short.flatMap(shortForms),
    ];
  }

  /** Labels of the secrets found in `bytes`, each as `where: what`. */
  scan(where: string, bytes: Buffer | string): string[] {
    const haystack = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    return [...new Set(this.needles.filter((n) => haystack.includes(n.bytes)).map((n) => `${where}: ${n.label}`))];
  }
}
