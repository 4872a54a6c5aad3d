#!/usr/bin/env node
import { isToneguardError } from './errors.js';
import { parseArgs, type ParsedArgs } from './cli/args.js';
import { serveCommand } from './cli/serve.js';
import { auditVerifyCommand } from './cli/audit.js';
import { processorsEnrollCommand, processorsListCommand, processorsRevokeCommand } from './cli/processors.js';
import { keysGenerateCommand, keysListCommand, keysRotateCommand } from './cli/keys.js';
import { dspDetectCommand, dspMaskCommand } from './cli/dsp.js';
import { recordingVerifyCommand } from './cli/recording.js';
import { simulateCallCommand } from './cli/simulate-call.js';
import { demoCommand } from './cli/demo.js';
import { devTokenCommand } from './cli/dev.js';
import { restrictNewFiles } from './config/data-dir.js';
import { vaultBackupCommand, vaultBackupVerifyCommand, vaultRestoreCommand, vaultShredCommand } from './cli/vault.js';
import { incidentFreezeCommand, incidentRevokeSessionsCommand, incidentThawCommand } from './cli/incident.js';
import { scanCommand } from './cli/scan.js';
import { evidenceCommand } from './cli/evidence.js';
import { dbMigrateCommand } from './cli/db.js';

/** A command returns its exit code, or 'running' when it keeps the process alive (serve). */
type Command = (args: ParsedArgs) => Promise<number | 'running'>;

/** Command table: `toneguard <group> [<sub>]`. Keys are the words the user types. */
const COMMANDS: Partial<Record<string, Command>> = {
  serve: serveCommand,
  'audit verify': auditVerifyCommand,
  'processors enroll': processorsEnrollCommand,
  'processors list': processorsListCommand,
  'processors revoke': processorsRevokeCommand,
  'keys generate': keysGenerateCommand,
  'keys rotate': keysRotateCommand,
  'keys list': keysListCommand,
  'dsp detect': dspDetectCommand,
  'dsp mask': dspMaskCommand,
  'recording verify': recordingVerifyCommand,
  'simulate-call': simulateCallCommand,
  demo: demoCommand,
  'dev token': devTokenCommand,
  'vault backup': vaultBackupCommand,
  'vault backup-verify': vaultBackupVerifyCommand,
  'vault restore': vaultRestoreCommand,
  'vault shred': vaultShredCommand,
  'incident freeze': incidentFreezeCommand,
  'incident thaw': incidentThawCommand,
  'incident revoke-sessions': incidentRevokeSessionsCommand,
  scan: scanCommand,
  evidence: evidenceCommand,
  'db migrate': dbMigrateCommand,
};

const USAGE = `usage: toneguard <command>
  serve                                   start the service
  dsp detect --in FILE --encoding pcmu|pcma|l16 [--rate 8000]
  dsp mask --in FILE --out FILE --encoding pcmu|pcma|l16 [--rate 8000] [--lookahead-ms N]
  recording verify FILE
  scan PATH... [--json] [--redact OUTDIR] [--encoding pcmu|pcma|l16 --rate HZ] [--jobs N]
                                          find keyed card numbers in recordings (prints brand and last four only)
  evidence --out DIR [--recordings N] [--chromium PATH]
                                          write an HTML and PDF evidence report for an assessor
  audit verify [FILE]
  db migrate [--url URL]                  bring the cluster's PostgreSQL schema to this build's (idempotent)
  keys generate|rotate|list
  dev token --sub ID --role ROLE
  processors enroll NAME --jwk FILE | list | revoke NAME
  vault backup --out FILE | backup-verify FILE | restore --in FILE
  vault shred TOKEN | --subject ID        erase a token or a data subject (data-subject request)
  incident freeze|thaw|revoke-sessions    stop detokenization and new captures, lift it, end agent sessions
  simulate-call [--url URL] [--data-dir DIR] [--provider NAME] [--verify ACCOUNT_REF]
                                          play a call as the provider (default twilio);
                                          --verify: verify the caller with a masked one-time code first
  demo [--provider NAME] [--watch]        start the service and run simulate-call against it;
                                          --watch keeps it up, with "Simulate a caller" in the desktop
  dev token --sub ID --role ROLE          print a development JWT (development profile only)`;

function findCommand(words: string[]): { command: Command; rest: string[] } | undefined {
  for (let n = Math.min(2, words.length); n >= 1; n--) {
    const command = COMMANDS[words.slice(0, n).join(' ')];
    if (command) return { command, rest: words.slice(n) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number | 'running'> {
  // Commands write keys, the trail and vault files into the data directory: private, like the service's.
  restrictNewFiles();
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return found.command(parseArgs(found.rest));
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (err: unknown) => {
    // One line, never a stack trace: errors may otherwise carry context we do not control.
    const message = isToneguardError(err) ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`toneguard: ${message.split('\n')[0]}\n`);
    process.exitCode = isToneguardError(err) ? 2 : 1;
  },
);
