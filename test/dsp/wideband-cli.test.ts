import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/dsp/index.js';
import { wavHeader } from '../../src/media/wav.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';
import { expectKeyedEvents, keyedAudio, type DetectResult, type MaskResult } from './cli-fixture.js';
import { judged } from './judges.js';
import { bytesToInt16 } from './tools.js';

const RATE = 16000;
const dir = mkdtempSync(join(tmpdir(), 'toneguard-dsp-cli16-'));
const path = (name: string): string => join(dir, name);
const audio = keyedAudio(RATE);
const l16 = (samples: Int16Array): Buffer => {
  const bytes = Buffer.alloc(samples.length * 2);
  encode('l16', samples, bytes);
  return bytes;
};

describe('toneguard dsp at 16 kHz (--encoding l16 --rate 16000)', () => {
  beforeAll(() => {
    writeFileSync(path('in.l16'), l16(audio));
    writeFileSync(path('in.wav'), Buffer.concat([wavHeader(RATE, 1, audio.length * 2), l16(audio)]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('detect prints the digits with start and end times in ms', () => {
    const result = runCli(['dsp', 'detect', '--in', path('in.l16'), '--encoding', 'l16', '--rate', '16000']);
    expect(result.status).toBe(0);
    expectKeyedEvents(lastJsonLine<DetectResult>(result.stdout));
  });

  it('mask writes same-length 16 kHz audio that no judge decodes once sox brings it to 8 kHz', () => {
    const out = path('out.l16');
    const result = runCli(['dsp', 'mask', '--in', path('in.l16'), '--out', out, '--encoding', 'l16', '--rate', '16000']);
    expect(result.status).toBe(0);
    const json = lastJsonLine<MaskResult>(result.stdout);
    expect(json).toMatchObject({ digits: '42', lookaheadMs: 20 });
    expect(json.maskedMs).toBeGreaterThanOrEqual(110);
    const masked = bytesToInt16(readFileSync(out));
    expect(masked.length).toBe(audio.length);
    expect(judged(audio, RATE)).toEqual({ multimon: '42', spandsp: '42', receiver: '42' });
    expect(judged(masked, RATE)).toEqual({ multimon: '', spandsp: '', receiver: '' });
  }, 120_000);

  it('takes the rate from a WAV header, keeps the header when masking, and refuses a --rate that contradicts it', () => {
    const out = path('out.wav');
    const masked = runCli(['dsp', 'mask', '--in', path('in.wav'), '--out', out, '--encoding', 'l16']);
    expect(masked.status).toBe(0);
    expect(lastJsonLine<MaskResult>(masked.stdout).events[0]).toEqual({ digit: '4', startMs: 40, endMs: 100 });
    expect(readFileSync(out).subarray(0, 44).equals(readFileSync(path('in.wav')).subarray(0, 44))).toBe(true);
    expect(lastJsonLine<DetectResult>(runCli(['dsp', 'detect', '--in', out, '--encoding', 'l16']).stdout).digits).toBe('');
    const contradicted = runCli(['dsp', 'detect', '--in', path('in.wav'), '--encoding', 'l16', '--rate', '8000']);
    expect(contradicted.status).toBe(2);
    expect(contradicted.stderr).toMatch(/WAV sample rate is 16000, not --rate 8000/);
  }, 180_000);

  const badRates: [string, string[], RegExp][] = [
    ['l16 at a rate other than 8000 or 16000', ['--encoding', 'l16', '--rate', '44100'], /--rate must be 8000 or 16000 for l16/],
    ['G.711 at 16000', ['--encoding', 'pcma', '--rate', '16000'], /--rate must be 8000 for pcma/],
  ];
  for (const [name, args, message] of badRates) {
    it(`rejects ${name} with one line and exit code 2`, () => {
      const result = runCli(['dsp', 'detect', '--in', path('in.l16'), ...args]);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    });
  }
});
