import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ToneguardError } from '../errors.js';

/**
 * The incident switch as it is kept on disk, in the data directory: the CLI writes it, the
 * running service watches it and reads it at start, so a freeze outlives a restart.
 */
export interface IncidentState {
  frozen: boolean;
  /** Agent tokens issued (`iat`) before this instant (ms since the epoch) are refused; null when never revoked. */
  revokedBefore: number | null;
  /** When and by whom the state last changed (an actor id, never a secret). */
  changedAt: string | null;
  changedBy: string | null;
}

export const INCIDENT_FILE = 'incident.json';
export const NORMAL_STATE: IncidentState = Object.freeze({ frozen: false, revokedBefore: null, changedAt: null, changedBy: null });
/** What a state file that cannot be read means: fail closed. */
export const FROZEN_STATE: IncidentState = Object.freeze({ ...NORMAL_STATE, frozen: true });

const stateSchema = z.strictObject({
  frozen: z.boolean(),
  revokedBefore: z.int().min(0).nullable(),
  changedAt: z.iso.datetime().nullable(),
  changedBy: z.string().max(256).nullable(),
});

export const incidentPath = (dataDir: string): string => join(dataDir, INCIDENT_FILE);

/** The state at `path`: normal when there is no file; `incident_state_invalid` when it cannot be trusted. */
export function readIncidentState(path: string): IncidentState {
  if (!existsSync(path)) return NORMAL_STATE;
  const raw = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) throw new ToneguardError('incident_state_invalid', `the incident state file ${path} is not valid`, 500);
  return parsed.data;
}

/** Replaces the state file whole or not at all: temporary file (0600), fsync, rename, fsync of the directory. */
export function writeIncidentState(path: string, state: IncidentState): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${INCIDENT_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(stateSchema.parse(state))}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The state as audit details: whether frozen, and the revocation cut-off as an ISO time. */
export function incidentDetails(state: Pick<IncidentState, 'frozen' | 'revokedBefore'>): Record<string, string | boolean | null> {
  return { frozen: state.frozen, revokedBefore: state.revokedBefore === null ? null : new Date(state.revokedBefore).toISOString() };
}
