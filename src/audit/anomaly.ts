import type { Config } from '../config/index.js';
import type { AuditRecord } from './chain.js';
import type { Alert } from './alerts.js';

export type AnomalyThresholds = Config['audit']['rules'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Keys a window may track before the stalest are dropped, so a flood cannot exhaust memory. */
const MAX_KEYS = 10_000;

/**
 * Counts events per key over a sliding window and fires once each time a key's count
 * goes over the threshold; it re-arms when the window slides back under.
 */
class SlidingWindow {
  private readonly hits = new Map<string, { times: number[]; fired: boolean }>();

  constructor(
    private readonly windowMs: number,
    private readonly threshold: number,
  ) {}

  /**
   * Counts `weight` events (a coalesced record stands for `count` of them; at most threshold + 1
   * are kept, which is all the rule needs). Returns the count when this takes the key over the threshold.
   */
  add(key: string, at: number, weight = 1): number | undefined {
    let entry = this.hits.get(key);
    if (!entry) {
      if (this.hits.size >= MAX_KEYS) this.hits.delete(this.hits.keys().next().value as string);
      entry = { times: [], fired: false };
    }
    this.hits.delete(key);
    this.hits.set(key, entry);
    for (let i = Math.min(weight, this.threshold + 1); i > 0; i--) entry.times.push(at);
    while (entry.times.length > 0 && entry.times[0] <= at - this.windowMs) entry.times.shift();
    if (entry.times.length <= this.threshold) {
      entry.fired = false;
      return undefined;
    }
    if (entry.fired) return undefined;
    entry.fired = true;
    return entry.times.length;
  }
}

/** `HH:MM-HH:MM` in a time zone; windows may cross midnight. */
function businessHoursCheck(spec: string | null, timeZone: string): (at: number) => boolean {
  if (spec === null) return () => true;
  const [open, close] = spec.split('-').map((hm) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5)));
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (at) => {
    const parts = format.formatToParts(at);
    const minutes = Number(parts.find((p) => p.type === 'hour')!.value) * 60 + Number(parts.find((p) => p.type === 'minute')!.value);
    return open <= close ? minutes >= open && minutes < close : minutes >= open || minutes < close;
  };
}

/**
 * The anomaly rules over the audit stream. Pure: it sees records (their `ts` is the clock)
 * and returns the alerts they trigger; the caller delivers them.
 */
const SIGNATURE_FAILED = 'signature_failed';

/** A telephony provider refused a webhook or media upgrade signature (`{provider}.signature_failed`, whichever provider). */
export function isSignatureFailure(record: Pick<AuditRecord, 'action' | 'actor'>): boolean {
  return record.actor.type === 'telephony' && record.action.endsWith('.signature_failed');
}

export class AnomalyRules {
  private readonly capturesPerAgent: SlidingWindow;
  private readonly detokenizePerClient: SlidingWindow;
  private readonly failuresPerCall: SlidingWindow;
  private readonly signatureFailuresPerSource: SlidingWindow;
  private readonly otpFailuresPerAccount: SlidingWindow;
  private readonly verificationsPerAgent: SlidingWindow;
  private readonly withinBusinessHours: (at: number) => boolean;

  constructor(private readonly thresholds: AnomalyThresholds) {
    this.capturesPerAgent = new SlidingWindow(HOUR, thresholds.capturesPerAgentPerHour);
    this.detokenizePerClient = new SlidingWindow(MINUTE, thresholds.detokenizePerClientPerMinute);
    this.failuresPerCall = new SlidingWindow(HOUR, thresholds.failedValidationsPerCall);
    this.signatureFailuresPerSource = new SlidingWindow(MINUTE, thresholds.signatureFailuresPerSourcePerMinute);
    this.otpFailuresPerAccount = new SlidingWindow(HOUR, thresholds.otpFailuresPerAccountPerHour);
    this.verificationsPerAgent = new SlidingWindow(HOUR, thresholds.verificationsPerAgentPerHour);
    this.withinBusinessHours = businessHoursCheck(thresholds.businessHours, thresholds.timezone);
  }

  observe(record: AuditRecord): Alert[] {
    const at = Date.parse(record.ts);
    const alerts: Alert[] = [];
    const over = (window: SlidingWindow, key: string, threshold: number, alert: Omit<Alert, 'count' | 'threshold' | 'subject'>, weight = 1) => {
      const count = window.add(key, at, weight);
      if (count !== undefined) alerts.push({ ...alert, subject: key, count, threshold });
    };
    switch (isSignatureFailure(record) ? SIGNATURE_FAILED : record.action) {
      case 'capture.started':
        over(this.capturesPerAgent, record.actor.id, this.thresholds.capturesPerAgentPerHour, {
          rule: 'captures_per_agent',
          message: 'an agent started an unusual number of captures within an hour',
        });
        if (!this.withinBusinessHours(at)) {
          alerts.push({ rule: 'capture_outside_hours', message: 'a capture started outside business hours', subject: record.actor.id });
        }
        break;
      case 'vault.detokenize':
      case 'processor.detokenize':
        over(this.detokenizePerClient, record.actor.id, this.thresholds.detokenizePerClientPerMinute, {
          rule: 'detokenize_burst',
          message: 'one client detokenized an unusual number of tokens within a minute',
        });
        break;
      case 'capture.field_invalid':
        over(this.failuresPerCall, callOf(record), this.thresholds.failedValidationsPerCall, {
          rule: 'card_testing',
          message: 'many failed validation attempts on one call (possible card testing)',
        });
        break;
      case SIGNATURE_FAILED:
        over(this.signatureFailuresPerSource, record.source ?? record.actor.source ?? 'unknown', this.thresholds.signatureFailuresPerSourcePerMinute, {
          rule: 'signature_failures',
          message: 'repeated webhook signature failures from one source',
        }, coalescedCount(record));
        break;
      case 'verification.otp_failed':
        // Keyed by the account's pseudonym: codes guessed across many calls still add up.
        over(this.otpFailuresPerAccount, String(record.details?.account ?? 'unknown'), this.thresholds.otpFailuresPerAccountPerHour, {
          rule: 'otp_failures_per_account',
          message: 'many wrong one-time codes for one account within an hour (possible account takeover)',
        });
        break;
      case 'verification.lookup':
        over(this.verificationsPerAgent, record.actor.id, this.thresholds.verificationsPerAgentPerHour, {
          rule: 'verifications_per_agent',
          message: 'an agent started an unusual number of caller verifications within an hour',
        });
        break;
    }
    return alerts;
  }
}

/** How many refusals a record stands for: the failure coalescer folds repeats into one record with `count`. */
function coalescedCount(record: AuditRecord): number {
  const count = record.details?.count;
  return record.details?.coalesced === true && typeof count === 'number' ? count : 1;
}

/** The call a validation failure belongs to: its call SID when recorded, else the capture. */
function callOf(record: AuditRecord): string {
  const callSid = record.details?.callSid;
  if (typeof callSid === 'string') return callSid;
  return record.resource ? `${record.resource.type}:${record.resource.id}` : 'unknown';
}
