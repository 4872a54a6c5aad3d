import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, type AudioEncoding } from '../../src/dsp/index.js';
import { readWav } from '../../src/media/wav.js';
import { scanRecording } from '../../src/scan/scan-file.js';
import { multimonDigits } from '../dsp/tools.js';
import { runCli } from '../helpers/cli.js';
import { keyedChannel, rawFile, wavFile, writeFileIn, type KeyedEntry } from './recordings.js';

/** A call: a menu key, the card, then expiry and CVV at the prompts. Channel 1 keys a second card. */
const CALLER: KeyedEntry[] = [
  { pauseMs: 800, digits: '2' },
  { pauseMs: 3500, digits: '4111111111111111' },
  { pauseMs: 3500, digits: '1229' },
  { pauseMs: 3500, digits: '937' },
];
const OTHER: KeyedEntry[] = [{ pauseMs: 1500, digits: '5555555555554444' }];
const PANS = ['4111111111111111', '5555555555554444', '411111111111', '555555555555'];
const NOW = Date.UTC(2026, 11, 1);

interface FileLine {
  type: 'file';
  file: string;
  ok: boolean;
  sampleRate?: number;
  channels?: number;
  cards?: { channel: number; brand: string; last4: string; startMs: number; endMs: number; expiry?: { startMs: number }; cvv?: { startMs: number } }[];
  redacted?: string;
  error?: { code: string; message: string };
}

function expectNoPan(...outputs: (string | Uint8Array)[]): void {
  for (const output of outputs) {
    const text = Buffer.from(output).toString('latin1');
    for (const pan of PANS) expect(text.includes(pan)).toBe(false);
  }
}

const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(6);

describe('toneguard scan on generated recordings (slow, real multimon-ng)', () => {
  let dir: string;
  const caller = { 16000: keyedChannel(CALLER, { sampleRate: 16000 }), 44100: keyedChannel(CALLER, { sampleRate: 44100 }), 8000: keyedChannel(CALLER) };
  const other = { 16000: keyedChannel(OTHER, { sampleRate: 16000, seed: 3 }), 44100: keyedChannel(OTHER, { sampleRate: 44100, seed: 3 }) };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'toneguard-scan-'));
    writeFileIn(join(dir, 'archive/2019/stereo-16k.wav'), wavFile(16000, [caller[16000].samples, other[16000].samples]));
    writeFileIn(join(dir, 'archive/2019/03/stereo-44k.wav'), wavFile(44100, [caller[44100].samples, other[44100].samples]));
    writeFileIn(join(dir, 'archive/2020/quiet.wav'), wavFile(8000, [keyedChannel([{ pauseMs: 500, digits: '12' }]).samples]));
    writeFileIn(join(dir, 'archive/2020/call.pcmu'), rawFile('pcmu', caller[8000].samples));
    writeFileIn(join(dir, 'archive/2020/notes.txt'), Buffer.from('not audio, not picked up from a folder'));
    writeFileIn(join(dir, 'archive/2021/not-audio.wav'), Buffer.from('this is a text file with a .wav name\n'));
    const whole = wavFile(8000, [caller[8000].samples]);
    // Cut inside the CVV prompt: the card is in the part that is present.
    writeFileIn(join(dir, 'archive/2021/truncated.wav'), whole.subarray(0, 44 + 2 * 8000 * 11));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds each card with its channel, brand, last four and offsets, in a folder tree, and reports bad files without stopping', () => {
    const result = runCli(['scan', join(dir, 'archive'), join(dir, 'missing'), '--json', '--encoding', 'pcmu', '--rate', '8000', '--redact', join(dir, 'out'), '--jobs', '2']);
    expectNoPan(result.stdout, result.stderr);
    expect(result.status).toBe(2);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const files = new Map((lines.filter((l) => l.type === 'file') as FileLine[]).map((l) => [l.file.slice(dir.length + 1), l]));
    expect([...files.keys()].sort()).toEqual(
      ['archive/2019/03/stereo-44k.wav', 'archive/2019/stereo-16k.wav', 'archive/2020/call.pcmu', 'archive/2020/quiet.wav', 'archive/2021/not-audio.wav', 'archive/2021/truncated.wav', 'missing'].sort(),
    );
    for (const [name, rate] of [['archive/2019/stereo-16k.wav', 16000], ['archive/2019/03/stereo-44k.wav', 44100]] as const) {
      const file = files.get(name)!;
      expect(file).toMatchObject({ ok: true, sampleRate: rate, channels: 2 });
      const [visa, master] = file.cards!;
      expect(visa).toMatchObject({ channel: 0, brand: 'visa', last4: '1111' });
      near(visa.startMs, caller[rate].spans[1].startMs);
      near(visa.endMs, caller[rate].spans[1].endMs);
      near(visa.expiry!.startMs, caller[rate].spans[2].startMs);
      near(visa.cvv!.startMs, caller[rate].spans[3].startMs);
      expect(master).toMatchObject({ channel: 1, brand: 'mastercard', last4: '4444' });
      near(master.startMs, other[rate].spans[0].startMs);
      expect(file.redacted).toBe(join(dir, 'out', name.slice('archive/'.length)));
    }
    expect(files.get('archive/2020/call.pcmu')!.cards).toHaveLength(1);
    expect(files.get('archive/2020/quiet.wav')).toMatchObject({ ok: true, cards: [] });
    expect(files.get('archive/2020/quiet.wav')!.redacted).toBeUndefined();
    expect(files.get('archive/2021/not-audio.wav')).toMatchObject({ ok: false, error: { code: 'scan_not_audio' } });
    expect(files.get('archive/2021/truncated.wav')).toMatchObject({ ok: false, error: { code: 'scan_truncated' }, cards: [{ brand: 'visa', last4: '1111' }] });
    expect(files.get('missing')).toMatchObject({ ok: false, error: { code: 'scan_unreadable' } });
    expect(lines[lines.length - 1]).toMatchObject({ type: 'summary', files: 6, errors: 3, filesWithCards: 4, cards: 6 });
    // One line per bad file on stderr, naming it; no progress bar when stderr is not a terminal.
    const errors = result.stderr.trim().split('\n');
    expect(errors).toHaveLength(3);
    expect(errors.some((e) => e.includes('not-audio.wav: scan_not_audio:'))).toBe(true);
    expect(result.stderr).not.toContain('[#');

    // The redacted copies: multimon-ng, which decodes every digit of the originals, finds none; the scan finds nothing either.
    for (const [name, rate] of [['2019/stereo-16k.wav', 16000], ['2019/03/stereo-44k.wav', 44100]] as const) {
      const original = readWav(readFileSync(join(dir, 'archive', name)))!;
      const redacted = readFileSync(join(dir, 'out', name));
      expectNoPan(redacted);
      const audio = readWav(redacted)!;
      expect(audio.sampleRate).toBe(rate);
      expect(audio.channels[0].length).toBe(original.channels[0].length);
      expect(multimonDigits(original.channels[0], rate)).toBe('2' + '4111111111111111' + '1229' + '937');
      expect(multimonDigits(original.channels[1], rate)).toBe('5555555555554444');
      expect(multimonDigits(audio.channels[0], rate)).toBe('2');
      expect(multimonDigits(audio.channels[1], rate)).toBe('');
      expect(scanRecording(redacted, undefined, { redact: false, nowMs: NOW }).cards).toEqual([]);
    }
    const redactedRaw = readFileSync(join(dir, 'out/2020/call.pcmu'));
    const linear = new Int16Array(redactedRaw.length);
    decode('pcmu', redactedRaw, linear);
    expect(multimonDigits(linear)).toBe('2');
  });

  it('prints brand, last four and offsets in text mode; exit 1 when it finds cards, 0 when not', () => {
    const found = runCli(['scan', join(dir, 'archive/2019/stereo-16k.wav'), join(dir, 'archive/2020/quiet.wav'), '--jobs', '1']);
    expectNoPan(found.stdout, found.stderr);
    expect(found.status).toBe(1);
    const lines = found.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/stereo-16k\.wav: channel 0: visa ending 1111 \(16 digits\) at \d+–\d+ ms; expiry at \d+–\d+ ms; CVV at \d+–\d+ ms$/);
    expect(lines[1]).toMatch(/stereo-16k\.wav: channel 1: mastercard ending 4444 \(16 digits\) at \d+–\d+ ms$/);
    expect(lines[2]).toMatch(/^scanned 2 files .*: 2 card numbers in 1 files, 0 errors$/);
    const clean = runCli(['scan', join(dir, 'archive/2020/quiet.wav'), '--jobs', '1']);
    expect(clean.status).toBe(0);
    expect(runCli(['scan']).status).toBe(2);
  });
});

describe('headerless recordings', () => {
  const { samples, spans } = keyedChannel(CALLER);
  for (const encoding of ['pcmu', 'pcma', 'l16'] as AudioEncoding[]) {
    it(`reads ${encoding} at the given rate`, () => {
      const scan = scanRecording(rawFile(encoding, samples), { encoding, sampleRate: 8000 }, { redact: false, nowMs: NOW });
      expect(scan).toMatchObject({ container: 'raw', encoding, sampleRate: 8000, channels: 1 });
      expect(scan.cards).toHaveLength(1);
      expect(scan.cards[0]).toMatchObject({ brand: 'visa', last4: '1111', channel: 0 });
      near(scan.cards[0].startMs, spans[1].startMs);
    });
  }

  it('reads L16 at 16 kHz when told the rate', () => {
    const wide = keyedChannel(CALLER, { sampleRate: 16000 });
    const scan = scanRecording(rawFile('l16', wide.samples), { encoding: 'l16', sampleRate: 16000 }, { redact: false, nowMs: NOW });
    expect(scan.cards.map((c) => c.last4)).toEqual(['1111']);
    near(scan.cards[0].startMs, wide.spans[1].startMs);
  });

  it('refuses a file with no WAV header when no --encoding says what it is', () => {
    expect(() => scanRecording(Buffer.from('plain text'), undefined, { redact: false, nowMs: NOW })).toThrow(/not a WAV file/);
  });
});

