import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from './types.js';

/** One line of the audit trail: the event, its place in the chain and when it happened. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  /** ISO 8601, UTC. */
  ts: string;
  /** The MAC of the record before (across files), or GENESIS for the very first. */
  prev: string;
  /** The cluster node that wrote the record (PostgreSQL trail only). */
  node?: string;
}

export const GENESIS = '0'.repeat(64);

const MAC_SUFFIX = /,"mac":"([0-9a-f]{64})"\}$/;

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

/**
 * Seals a record body (its exact JSON text, `prev` included) with an HMAC and returns the
 * line to append and the MAC the next record links to. MACing the exact text rather than a
 * re-serialisation means verification never depends on key order.
 */
export function sealRecord(key: Buffer, body: string): { line: string; mac: string } {
  const sealed = mac(key, body);
  return { line: `${body.slice(0, -1)},"mac":"${sealed}"}`, mac: sealed };
}

export type LineCheck = { ok: true; record: AuditRecord; mac: string } | { ok: false; reason: string };

/** Checks one line's own MAC and shape; the caller checks its links (seq, prev). */
export function openRecord(key: Buffer, line: string): LineCheck {
  const found = MAC_SUFFIX.exec(line);
  if (!found) return { ok: false, reason: 'no MAC (not a sealed record)' };
  const body = `${line.slice(0, found.index)}}`;
  const expected = Buffer.from(mac(key, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(found[1], 'hex'))) return { ok: false, reason: 'MAC mismatch (record edited, or another key)' };
  let record: AuditRecord;
  try {
    record = JSON.parse(body) as AuditRecord;
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (!Number.isInteger(record.seq) || typeof record.prev !== 'string') return { ok: false, reason: 'missing seq or prev' };
  return { ok: true, record, mac: found[1] };
}

/** Where the chain starts when older files were pruned by retention: itself MACed. */
export interface ChainAnchor {
  /** The seq and MAC of the last pruned record. */
  seq: number;
  mac: string;
  prunedThrough: string;
  anchorMac: string;
}

function anchorMac(key: Buffer, seq: number, lastMac: string): string {
  return mac(key, `anchor\n${seq}\n${lastMac}`);
}

export function sealAnchor(key: Buffer, seq: number, lastMac: string, prunedThrough: string): ChainAnchor {
  return { seq, mac: lastMac, prunedThrough, anchorMac: anchorMac(key, seq, lastMac) };
}

export function anchorValid(key: Buffer, anchor: ChainAnchor): boolean {
  const expected = Buffer.from(anchorMac(key, anchor.seq, anchor.mac), 'hex');
  const given = Buffer.from(String(anchor.anchorMac), 'hex');
  return given.length === expected.length && timingSafeEqual(expected, given);
}
