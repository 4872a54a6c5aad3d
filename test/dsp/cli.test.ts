import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type AudioEncoding } from '../../src/dsp/index.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { expectKeyedEvents, keyedAudio, type DetectResult, type MaskResult } from './cli-fixture.js';
import { bytesToInt16, multimonDigits } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'toneguard-dsp-cli-'));
const path = (name: string): string => join(dir, name);
const audio = keyedAudio();

function writeEncoded(name: string, encoding: AudioEncoding): string {
  const bytes = new Uint8Array(audio.length * (encoding === 'l16' ? 2 : 1));
  encode(encoding, audio, bytes);
  writeFileSync(path(name), bytes);
  return path(name);
}

describe('toneguard dsp', () => {
  beforeAll(() => {
    for (const encoding of ['pcmu', 'pcma', 'l16'] as const) writeEncoded(`in.${encoding}`, encoding);
    writeFileSync(path('empty.raw'), new Uint8Array(0));
    writeFileSync(path('odd.raw'), new Uint8Array(3));
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', path('in.l16'), '-e', 'u-law', path('in.wav')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('detect prints the digits with start and end times for every encoding', () => {
    for (const encoding of ['pcmu', 'pcma', 'l16']) {
      const result = runCli(['dsp', 'detect', '--in', path(`in.${encoding}`), '--encoding', encoding]);
      expect(result.status).toBe(0);
      expectKeyedEvents(lastJsonLine<DetectResult>(result.stdout));
    }
  });

  it('mask writes same-format, same-length audio with no decodable tone', () => {
    const out = path('out.pcmu');
    const result = runCli(['dsp', 'mask', '--in', path('in.pcmu'), '--out', out, '--encoding', 'pcmu', '--lookahead-ms', '20']);
    expect(result.status).toBe(0);
    const json = lastJsonLine<MaskResult>(result.stdout);
    expect(json).toMatchObject({ digits: '42', lookaheadMs: 20 });
    expect(json.maskedMs).toBeGreaterThanOrEqual(110);
    const masked = readFileSync(out);
    expect(masked.length).toBe(audio.length);
    const linear = execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'u-law', '-b', '8', '-c', '1', out, '-t', 'raw', '-e', 'signed', '-b', '16', '-']);
    expect(multimonDigits(bytesToInt16(linear))).toBe('');
  });

  it('mask keeps a WAV header and detect reads one', () => {
    const out = path('out.wav');
    const result = runCli(['dsp', 'mask', '--in', path('in.wav'), '--out', out, '--encoding', 'pcmu']);
    expect(result.status).toBe(0);
    expect(lastJsonLine<MaskResult>(result.stdout).digits).toBe('42');
    const input = readFileSync(path('in.wav'));
    const output = readFileSync(out);
    expect(output.length).toBe(input.length);
    expect(output.subarray(0, 44).equals(input.subarray(0, 44))).toBe(true);
    const detected = runCli(['dsp', 'detect', '--in', out, '--encoding', 'pcmu']);
    expect(lastJsonLine<DetectResult>(detected.stdout).digits).toBe('');
  });

  it('accepts an empty file: no digits, empty output', () => {
    const detected = runCli(['dsp', 'detect', '--in', path('empty.raw'), '--encoding', 'l16']);
    expect(lastJsonLine(detected.stdout)).toEqual({ digits: '', events: [] });
    const masked = runCli(['dsp', 'mask', '--in', path('empty.raw'), '--out', path('empty.out'), '--encoding', 'pcma']);
    expect(lastJsonLine(masked.stdout)).toEqual({ digits: '', events: [], lookaheadMs: 20, maskedMs: 0 });
    expect(readFileSync(path('empty.out')).length).toBe(0);
  });

  const badInputs: [string, string[], RegExp][] = [
    ['a missing file', ['dsp', 'detect', '--in', '/nonexistent/x.raw', '--encoding', 'pcmu'], /cannot read --in/],
    ['an unknown encoding', ['dsp', 'detect', '--in', 'IN', '--encoding', 'gsm'], /--encoding must be/],
    ['an odd-length L16 file', ['dsp', 'detect', '--in', 'ODD', '--encoding', 'l16'], /even number of bytes/],
    ['a rate other than 8000', ['dsp', 'detect', '--in', 'IN', '--encoding', 'pcmu', '--rate', '16000'], /--rate must be 8000/],
    ['a lookahead above 20', ['dsp', 'mask', '--in', 'IN', '--out', 'OUT', '--encoding', 'pcmu', '--lookahead-ms', '25'], /--lookahead-ms must be/],
    ['a negative lookahead', ['dsp', 'mask', '--in', 'IN', '--out', 'OUT', '--encoding', 'pcmu', '--lookahead-ms=-1'], /--lookahead-ms must be/],
    ['a WAV whose format differs from --encoding', ['dsp', 'detect', '--in', 'WAV', '--encoding', 'pcma'], /not --encoding pcma/],
    ['a missing --in', ['dsp', 'detect', '--encoding', 'pcmu'], /--in is required/],
  ];
  for (const [name, args, message] of badInputs) {
    it(`rejects ${name} with one line and exit code 2`, () => {
      const resolved = args.map((a) =>
        a === 'IN' ? path('in.pcmu') : a === 'ODD' ? path('odd.raw') : a === 'OUT' ? path('never.raw') : a === 'WAV' ? path('in.wav') : a,
      );
      const result = runCli(resolved);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
