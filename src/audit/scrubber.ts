/**
 * The last line of defence: masks card numbers and security codes in text that is about to
 * leave the process (serialised log lines, audit records). A hit here means a bug upstream,
 * so callers count and alert on every one.
 */

export type ScrubKind = 'pan' | 'cvv';

export interface ScrubResult {
  text: string;
  hits: ScrubKind[];
}

export const PAN_MASK = '[REDACTED:pan]';
export const CVV_MASK = '[REDACTED:cvv]';

/** Cheap prechecks: most lines hold neither a long digit run nor a card keyword. */
const DIGIT_RUN_PRECHECK = /\d(?:[ -]?\d){12}/;
const CVV_KEYWORD_PRECHECK = /cvv|cvc|csc|cvn|cid|security.?code|card.?code|verification/i;

/** A maximal run of digits joined by single spaces or dashes. */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
/** A card keyword, then up to a few punctuation characters, then 3 or 4 digits standing alone. */
const CVV_NEAR_KEYWORD =
  /(?<![a-z])(?:cvv2?|cvc2?|csc|cvn|cid|security[ _-]?code|card[ _-]?code|verification[ _-]?(?:code|value))(?![a-z])[\\"']{0,2}\s{0,3}[:=]?\s{0,3}[\\"']{0,2}(?:is\s{1,3})?(\d{3,4})(?!\d)/gi;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * True for a digit string shaped like a PAN. Only Visa ever issued 13-digit numbers, and
 * no brand issues them starting with 1: that carve-out keeps epoch milliseconds intact.
 */
function looksLikePan(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  if (digits.length === 13 && digits[0] === '1') return false;
  return luhnValid(digits);
}

interface Span {
  start: number;
  end: number;
  kind: ScrubKind;
}

/**
 * Optional work counter for tests: every character the scanner's own loops visit. The regular
 * expressions it runs are linear by construction (no nested quantifiers, bounded lookbehind).
 */
export interface ScanMeter {
  visits: number;
}

/**
 * PAN spans inside one maximal digit run. A run without separators is one number. With
 * separators, any stretch of whole groups may be the card (a PAN followed by a year, say);
 * a stretch stops at 19 digits, so the work stays linear in the run. A single group may be
 * part of a hex identifier (`isHexWord`), which is not a card.
 */
function panSpans(run: string, offset: number, out: Span[], isHexWord: (start: number, end: number) => boolean, meter: ScanMeter | undefined): void {
  const groups: { start: number; end: number; digits: string }[] = [];
  const groupPattern = /\d+/g;
  for (let m = groupPattern.exec(run); m; m = groupPattern.exec(run)) {
    groups.push({ start: offset + m.index, end: offset + m.index + m[0].length, digits: m[0] });
  }
  for (let i = 0; i < groups.length; i++) {
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      if (meter) meter.visits += groups[j].digits.length;
      digits += groups[j].digits;
      if (digits.length > 19) break;
      if (looksLikePan(digits) && !(i === j && isHexWord(groups[i].start, groups[i].end))) {
        out.push({ start: groups[i].start, end: groups[j].end, kind: 'pan' });
        i = j;
        break;
      }
    }
  }
}

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Lengths hex identifiers come in: ObjectId 24, MD5 and Twilio SID bodies 32, SHA-1 40, SHA-224 56, SHA-256 64, SHA-384 96, SHA-512 128. */
const HEX_ID_LENGTHS = new Set([24, 32, 40, 48, 56, 64, 96, 128]);
const SINGLE_CASE_HEX = /^(?:[0-9a-f]+|[0-9A-F]+)$/;
const SID_PREFIX = /^[A-Z]{2}/;

/**
 * Whether a whole word is a real hex identifier (a hash, a MAC, a Twilio SID such as
 * `CA` + 32 hex): one of the usual lengths, single-case, with at least one letter a-f.
 * Anything else around a digit run, such as `abc4111111111111111def`, is not.
 */
function isHexIdentifier(word: string): boolean {
  const body = HEX_ID_LENGTHS.has(word.length) ? word : HEX_ID_LENGTHS.has(word.length - 2) && SID_PREFIX.test(word) ? word.slice(2) : undefined;
  return body !== undefined && SINGLE_CASE_HEX.test(body) && /[a-fA-F]/.test(body);
}

/**
 * Finds the word (letters, digits, underscore) around a digit group. Groups are asked about
 * left to right, so each character is walked at most once backwards and once forwards.
 */
class WordFinder {
  private start = 0;
  private end = 0;

  constructor(
    private readonly text: string,
    private readonly meter: ScanMeter | undefined,
  ) {}

  around(from: number, to: number): string {
    if (from >= this.end) {
      let start = from;
      while (start > this.end && isWordChar(this.text.charCodeAt(start - 1))) start--;
      let end = to;
      while (end < this.text.length && isWordChar(this.text.charCodeAt(end))) end++;
      if (this.meter) this.meter.visits += from - start + (end - to);
      this.start = start;
      this.end = end;
    }
    return this.text.slice(this.start, this.end);
  }
}

function findSpans(text: string, meter: ScanMeter | undefined): Span[] {
  const spans: Span[] = [];
  if (DIGIT_RUN_PRECHECK.test(text)) {
    const words = new WordFinder(text, meter);
    const isHexWord = (start: number, end: number) => isHexIdentifier(words.around(start, end));
    DIGIT_RUN.lastIndex = 0;
    for (let m = DIGIT_RUN.exec(text); m; m = DIGIT_RUN.exec(text)) {
      if (m[0].length >= 13) panSpans(m[0], m.index, spans, isHexWord, meter);
    }
  }
  if (CVV_KEYWORD_PRECHECK.test(text)) {
    CVV_NEAR_KEYWORD.lastIndex = 0;
    for (let m = CVV_NEAR_KEYWORD.exec(text); m; m = CVV_NEAR_KEYWORD.exec(text)) {
      const start = m.index + m[0].length - m[1].length;
      spans.push({ start, end: start + m[1].length, kind: 'cvv' });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * Tracks whether a position of a JSON text lies inside a string literal. Asked about
 * increasing positions, it walks the text once in all.
 */
class JsonStringTracker {
  private index = 0;
  private inside = false;

  constructor(
    private readonly text: string,
    private readonly meter: ScanMeter | undefined,
  ) {}

  insideAt(position: number): boolean {
    const from = this.index;
    let i = from;
    for (; i < position; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 92 /* \ */ && this.inside) i++;
      else if (c === 34 /* " */) this.inside = !this.inside;
    }
    if (this.meter) this.meter.visits += i - from;
    this.index = i;
    return this.inside;
  }
}

export interface ScrubOptions {
  /** The text is a JSON document: a masked bare number becomes a string, so the line still parses. */
  json?: boolean;
  meter?: ScanMeter;
}

/** Masks every PAN-like and CVV-like value, in time linear in the text's length. */
export function scrub(text: string, options: ScrubOptions = {}): ScrubResult {
  const spans = findSpans(text, options.meter);
  if (spans.length === 0) return { text, hits: [] };
  const strings = options.json === true ? new JsonStringTracker(text, options.meter) : undefined;
  const parts: string[] = [];
  let cursor = 0;
  const hits: ScrubKind[] = [];
  for (const span of spans) {
    if (span.start < cursor) continue;
    const mask = span.kind === 'pan' ? PAN_MASK : CVV_MASK;
    const quoted = strings !== undefined && !strings.insideAt(span.start);
    parts.push(text.slice(cursor, span.start), quoted ? `"${mask}"` : mask);
    cursor = span.end;
    hits.push(span.kind);
  }
  parts.push(text.slice(cursor));
  return { text: parts.join(''), hits };
}

const isDigitOrSeparator = (c: number) => (c >= 48 && c <= 57) || c === 32 || c === 45;

/**
 * Shortens text bound for a log to at most `max` characters, never inside a run of digits
 * (with their separators): a card number is either kept whole, for the scrubber to mask, or dropped.
 */
export function truncateForLog(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  while (end > 0 && isDigitOrSeparator(text.charCodeAt(end - 1)) && isDigitOrSeparator(text.charCodeAt(end))) end--;
  return `${text.slice(0, end)}…`;
}
