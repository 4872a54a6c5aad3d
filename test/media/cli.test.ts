import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { EncryptedRecordingWriter, StereoRecorder } from '../../src/media/index.js';
import { loadKeyring } from '../../src/vault/index.js';
import { keypadTones, syntheticSpeech } from '../helpers/twilio.js';
import { lastJsonLine, runCli } from '../helpers/cli.js';

/** A recording made with the data directory's development keyring, caller channel as given. */
async function recordingIn(dataDir: string, caller: Int16Array): Promise<string> {
  const config = parseConfig({ dataDir });
  const { keyring } = loadKeyring(config, { dataDir, profile: 'development' });
  const path = join(dataDir, 'call.tgrec');
  const recorder = new StereoRecorder(new EncryptedRecordingWriter(path, 'call', keyring));
  for (let at = 0; at < caller.length; at += 160) {
    recorder.writeCaller(caller.subarray(at, at + 160));
    recorder.writeAgent(new Int16Array(160));
  }
  await recorder.close();
  return path;
}

describe('toneguard recording verify', () => {
  const env = (dataDir: string) => ({ TONEGUARD_DATA_DIR: dataDir });

  it('exits 1 when tones remain, printing counts but no digit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-rec-cli-'));
    const file = await recordingIn(dataDir, keypadTones('4111').audio);
    const result = runCli(['recording', 'verify', file], { env: env(dataDir) });
    expect(result.status).toBe(1);
    const summary = lastJsonLine<{ clean: boolean; channels: { name: string; digitsFound: number }[] }>(result.stdout);
    expect(summary.clean).toBe(false);
    expect(summary.channels).toEqual([
      { name: 'caller', digitsFound: 4 },
      { name: 'agent', digitsFound: 0 },
    ]);
    expect(result.stdout).not.toContain('4111');
  });

  it('exits 0 on speech only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-rec-cli-'));
    const file = await recordingIn(dataDir, syntheticSpeech(1000));
    expect(runCli(['recording', 'verify', file], { env: env(dataDir) }).status).toBe(0);
  });

  it('exits 2 on usage errors, missing, foreign or corrupt files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-rec-cli-'));
    expect(runCli(['recording', 'verify'], { env: env(dataDir) }).status).toBe(2);
    expect(runCli(['recording', 'verify', join(dataDir, 'none.tgrec')], { env: env(dataDir) }).status).toBe(2);
    const junk = join(dataDir, 'junk.tgrec');
    writeFileSync(junk, 'not a recording');
    const corrupt = runCli(['recording', 'verify', junk], { env: env(dataDir) });
    expect(corrupt.status).toBe(2);
    expect(corrupt.stderr).toContain('recording_corrupt');
    const file = await recordingIn(dataDir, syntheticSpeech(200));
    const otherDir = mkdtempSync(join(tmpdir(), 'toneguard-rec-cli-'));
    expect(runCli(['recording', 'verify', file], { env: env(otherDir) }).status).toBe(2);
  });
});

describe('toneguard simulate-call and demo', () => {
  it('simulate-call refuses a Twilio API base it cannot stand in for', () => {
    const result = runCli(['simulate-call'], { env: { TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32), TWILIO_AUTH_TOKEN: 't', TWILIO_API_BASE_URL: 'https://api.twilio.com' } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('TWILIO_API_BASE_URL');
  });

  it('demo plays the whole call and exits 0: the agent heard no digit, and got a token', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'toneguard-demo-'));
    const result = runCli(['demo'], { env: { TONEGUARD_DATA_DIR: dataDir } });
    expect(result.status).toBe(0);
    const summary = lastJsonLine<{ success: boolean; agentHeard: { digits: string }; capture: { state: string; result: { token: string } } }>(result.stdout);
    expect(summary.agentHeard.digits).toBe('');
    expect(summary.capture.state).toBe('complete');
    expect(summary.capture.result.token).toMatch(/^tok_/);
    expect(result.stdout + result.stderr).not.toContain('4111111111111111');
  }, 60_000);
});
