import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import type { AuditSink } from '../../src/audit/types.js';
import { createCaptureService, type CaptureView, type Keypress, type TokenizeRequest } from '../../src/capture/index.js';
import { parseConfig } from '../../src/config/index.js';
import { openVault } from '../../src/vault/index.js';
import { AGENT, AMEX, PROCESSOR, tempDir } from './helpers.js';
import { holds } from '../helpers/byte-scan.js';

// Amex, so the CVV has four digits: a three-digit run turns up by chance in any few kilobytes
// of base64 ciphertext, which would make the scan meaningless.
const PAN = AMEX;
const CVV = '7319';
const EXPIRY = '1230';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function findings(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const [what, value] of [['PAN', PAN], ['CVV', CVV]] as const) {
      if (holds(bytes, value)) found.push(`${what} in ${file}`);
    }
  }
  return found;
}

describe('done means: a whole capture leaves no PAN or CVV in any byte written', () => {
  it('captures card, expiry and CVV into the SQLite vault with a file logger, and every file stays clean', async () => {
    const dataDir = tempDir();
    const logFile = join(tempDir(), 'toneguard.log');
    const config = parseConfig({ dataDir });
    const logger = createLogger({ level: 'trace', destination: pino.destination({ dest: logFile, sync: true }) });
    // Audit events go to the same log file, so they are scanned too.
    const audit: AuditSink = { record: (event) => logger.info({ audit: event }, event.action) };
    const { vault, warning } = openVault(config, audit);
    logger.warn(warning);
    const tokenizer = { tokenize: (request: TokenizeRequest) => vault.tokenize({ ...request, readers: [PROCESSOR.id] }) };
    const capture = createCaptureService({ config: config.capture, tokenizer, audit, logger });

    const views: CaptureView[] = [];
    const done = new Promise<CaptureView>((resolve) =>
      capture.onView((view) => {
        views.push(view);
        if (view.state !== 'active' && view.state !== 'tokenizing') resolve(view);
      }),
    );
    const session = capture.start({ callSid: 'CA_done', fields: ['card_number', 'expiry', 'cvv'].map((name) => ({ name })), actor: AGENT });
    [...`${PAN}${EXPIRY}${CVV}`].forEach((key, i) => session.press(key as Keypress, i * 150, 'inband'));
    const final = await done;
    expect(final).toMatchObject({ state: 'complete', result: { brand: 'amex', last4: '0005', token: expect.stringMatching(/^tok_/) } });
    logger.info({ view: final }, 'capture finished');

    // The processor's one-time read gets everything, so the data really was there to leak.
    const record = await vault.detokenize(final.result!.token, { actor: PROCESSOR, processor: PROCESSOR.id, includeCvv: true });
    expect(record.fields.card_number).toBe(PAN);
    expect(record.cvv).toBe(CVV);

    const whileOpen = [...filesUnder(dataDir), logFile];
    expect(whileOpen.map((f) => f.slice(dataDir.length))).toEqual(expect.arrayContaining(['/vault.db', '/vault.db-wal', '/vault.db-shm', '/keys/keyring.json']));
    expect(findings(whileOpen)).toEqual([]);

    await vault.close();
    logger.flush();
    expect(findings([...filesUnder(dataDir), logFile])).toEqual([]);
    expect(readFileSync(logFile, 'utf8')).toContain('vault.detokenize');
    // The scan is able to see a value when one is there.
    expect(findings([join(import.meta.dirname, 'helpers.ts')])).toContain(`PAN in ${join(import.meta.dirname, 'helpers.ts')}`);
  });
});
