import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SYSTEM_ACTOR, type AuditEvent, type AuditSink } from './types.js';

/**
 * Events from processes that may not write the trail while the service holds it (operator CLI
 * commands such as `keys rotate`) wait here, one file each, until the writer records them.
 */
export const INBOX_DIR = 'inbox';
const SPOOLED = /^\d{13}-[0-9a-f]{16}\.json$/;

const spooledEvent = z.strictObject({
  spooledAt: z.iso.datetime(),
  event: z.strictObject({
    action: z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/),
    actor: z.strictObject({ type: z.enum(['agent', 'processor', 'system', 'telephony', 'operator']), id: z.string().max(256), roles: z.array(z.string()).optional(), source: z.string().optional() }),
    outcome: z.enum(['success', 'failure', 'denied']),
    resource: z.strictObject({ type: z.string().max(64), id: z.string().max(1024) }).optional(),
    source: z.string().max(256).optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  }),
});

/** Leaves `event` for the trail's writer, whole or not at all (temporary file, fsync, rename). */
export function spoolAuditEvent(trailDir: string, event: AuditEvent, now = Date.now()): void {
  const dir = join(trailDir, INBOX_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `${now}-${randomBytes(8).toString('hex')}.json`;
  const temporary = join(dir, `.${name}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify({ spooledAt: new Date(now).toISOString(), event }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, join(dir, name));
}

/**
 * Records every spooled event into `trail`, oldest first, with the time it was spooled, then
 * deletes its file once its record is durable. A crash between the two records it twice rather
 * than never. A file that is not a spooled event is recorded as `audit.spool_rejected` and removed.
 */
export async function drainInbox(trailDir: string, trail: AuditSink): Promise<number> {
  const dir = join(trailDir, INBOX_DIR);
  if (!existsSync(dir)) return 0;
  const names = readdirSync(dir).filter((name) => SPOOLED.test(name)).sort();
  const recorded: { path: string; durable: void | Promise<void> }[] = [];
  for (const name of names) {
    // A spooled file is safer on disk than in the backlog of a trail that cannot write.
    if (trail.available?.() === false) break;
    const path = join(dir, name);
    const parsed = spooledEvent.safeParse(parseJson(readFileSync(path, 'utf8')));
    const durable = parsed.success
      ? trail.record({ ...parsed.data.event, details: { ...parsed.data.event.details, spooledAt: parsed.data.spooledAt } })
      : trail.record({ action: 'audit.spool_rejected', actor: SYSTEM_ACTOR, outcome: 'failure', resource: { type: 'file', id: name } });
    recorded.push({ path, durable });
  }
  // One group commit for the lot; a file whose record was lost stays for the next drain.
  const outcomes = await Promise.allSettled(recorded.map((r) => r.durable));
  outcomes.forEach((outcome, i) => outcome.status === 'fulfilled' && unlinkSync(recorded[i].path));
  return names.length;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
