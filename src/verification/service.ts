import { createHmac, randomBytes } from 'node:crypto';
import type { OtpView, VerificationView } from '../agent/contract.js';
import type { Logger } from '../audit/logger.js';
import type { Actor, AuditOutcome, AuditSink } from '../audit/types.js';
import { realClock, type Clock } from '../capture/clock.js';
import type { CaptureService, CaptureView } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import type { CallRegistry } from '../state/calls.js';
import type { NumbersOnFileLookup } from './crm-lookup.js';
import { attestationOf, lastTwo, levelOf, sameNumber, type Attestation, type VerificationLevel } from './levels.js';
import { OneTimeCodeChallenge } from './one-time-code.js';
import { SlidingQuota } from './quota.js';

const HOUR = 60 * 60_000;

/** Sends one text message; resolves to the provider's message id (Twilio's Messages API in production). */
export interface MessageSender {
  createMessage(request: { to: string; from: string; body: string }): Promise<string>;
}

export interface VerificationDeps {
  config: Config['verification'];
  calls: CallRegistry;
  captures: CaptureService;
  audit: AuditSink;
  logger: Logger;
  /** Absent when `verification.lookupUrl` is not configured. */
  lookup?: NumbersOnFileLookup;
  /** Absent when `verification.smsFrom` is not configured. */
  messages?: MessageSender;
  clock?: Clock;
}

export interface VerificationService {
  /** The inbound webhook's STIR/SHAKEN result (`StirVerstat`), kept with the call. */
  noteInboundCall(callSid: string, stirVerstat: string | undefined): void;
  /** Looks up the account's numbers on file and compares the caller ID; a new account starts over. */
  lookup(callSid: string, accountRef: string, actor: Actor): Promise<VerificationView>;
  /** Texts a one-time code to the number on file at `numberIndex` and opens the `otp` capture for it. */
  sendCode(callSid: string, numberIndex: number, actor: Actor): Promise<{ captureId: string; verification: VerificationView }>;
  levelOf(callSid: string): VerificationLevel;
}

interface AccountOnFile {
  /** A per-process pseudonym of the account reference: what audit records and anomaly rules key on. */
  key: string;
  /** Full numbers, in memory only: never in a view, an event, a log or an audit record. */
  numbers: string[];
  callerIdOnFile: boolean;
}

interface CallVerification {
  attestation: Attestation | null;
  account?: AccountOnFile;
  otp?: { challenge: OneTimeCodeChallenge; view: OtpView };
}

/**
 * Caller verification: the carrier's attestation, the caller ID against the numbers on file,
 * and a one-time code texted to a number on file and keyed as masked DTMF into an `otp` capture.
 * Codes exist only as HMAC digests under a per-process key; the text message is their one copy.
 */
export function createVerificationService(deps: VerificationDeps): VerificationService {
  const { config, calls, captures, audit } = deps;
  const clock = deps.clock ?? realClock;
  const logger = deps.logger.child({ module: 'verification' });
  const codeKey = randomBytes(32);
  const accountKey = randomBytes(32);
  const states = new Map<string, CallVerification>();
  const lookupsPerAgent = new SlidingQuota(HOUR, config.lookupsPerAgentPerHour);
  const codesPerAgent = new SlidingQuota(HOUR, config.codesPerAgentPerHour);
  const codesPerAccount = new SlidingQuota(HOUR, config.codesPerAccountPerHour);

  const pseudonym = (accountRef: string) => `acct_${createHmac('sha256', accountKey).update(accountRef).digest('hex').slice(0, 16)}`;

  const view = (state: CallVerification): VerificationView => ({
    level: levelOf({ attestation: state.attestation, callerIdOnFile: state.account?.callerIdOnFile ?? false, otpVerified: state.otp?.view.state === 'verified' }),
    attestation: state.attestation,
    callerIdOnFile: state.account ? state.account.callerIdOnFile : null,
    numbersOnFile: state.account ? state.account.numbers.map(lastTwo) : [],
    otp: state.otp ? { ...state.otp.view } : null,
  });

  const publish = (callSid: string, state: CallVerification): VerificationView => {
    const current = view(state);
    calls.update(callSid, { verification: current });
    return current;
  };

  const record = (action: string, outcome: AuditOutcome, actor: Actor, callSid: string, details: Record<string, string | number | boolean | null>) =>
    audit.record({ action, actor, outcome, resource: { type: 'call', id: callSid }, details: { callSid, ...details } });

  /** The state of a live call the caller may verify on, or a 404. */
  const liveState = (callSid: string): CallVerification => {
    const call = calls.get(callSid);
    if (!call || call.state === 'ended') throw new ToneguardError('call_not_found', 'no such live call', 404);
    let state = states.get(callSid);
    if (!state) {
      state = { attestation: null };
      states.set(callSid, state);
    }
    return state;
  };

  const refuseOverQuota = (actor: Actor, callSid: string, reason: string): never => {
    record('verification.refused', 'denied', actor, callSid, { reason });
    throw new ToneguardError('rate_limited', 'too many verification attempts; retry later', 429);
  };

  const codeTyped = (callSid: string, state: CallVerification, otp: NonNullable<CallVerification['otp']>, typed: Uint8Array) => {
    const outcome = otp.challenge.check(typed, clock.now());
    const account = state.account?.key ?? null;
    const actor: Actor = { type: 'telephony', id: callSid };
    if (outcome === 'match') {
      otp.view.state = 'verified';
      record('verification.otp_verified', 'success', actor, callSid, { account });
      publish(callSid, state);
      return { valid: true } as const;
    }
    if (outcome === 'mismatch') {
      record('verification.otp_failed', 'failure', actor, callSid, { account, attempt: otp.challenge.attemptsUsed });
      if (!otp.challenge.isOpen(clock.now())) otp.view.state = 'failed';
      publish(callSid, state);
      return { valid: false, error: 'otp_mismatch' } as const;
    }
    if (outcome === 'expired') otp.view.state = 'expired';
    publish(callSid, state);
    return { valid: false, error: outcome === 'expired' ? 'otp_expired' : 'otp_void' } as const;
  };

  /** An `otp` capture that ended without a match (attempts, time limit, cancel) leaves the code void. */
  const captureEnded = (capture: CaptureView) => {
    if (capture.state === 'active' || capture.state === 'tokenizing') return;
    const state = states.get(capture.callSid);
    const otp = state?.otp;
    if (!state || !otp || otp.view.captureId !== capture.id || otp.view.state !== 'sent') return;
    otp.challenge.void();
    otp.view.state = capture.error?.code === 'timeout' ? 'expired' : 'failed';
    publish(capture.callSid, state);
  };
  captures.onView(captureEnded);

  calls.onChange((call) => {
    if (call.state !== 'ended') return;
    states.get(call.callSid)?.otp?.challenge.void();
    states.delete(call.callSid);
  });

  return {
    noteInboundCall(callSid, stirVerstat) {
      const state: CallVerification = { attestation: attestationOf(stirVerstat) };
      states.set(callSid, state);
      publish(callSid, state);
    },

    async lookup(callSid, accountRef, actor) {
      if (!deps.lookup) throw new ToneguardError('verification_unavailable', 'verification.lookupUrl is not configured', 503);
      liveState(callSid);
      const account = pseudonym(accountRef);
      if (!lookupsPerAgent.take(actor.id, clock.now())) refuseOverQuota(actor, callSid, 'lookups_per_agent');
      let numbers: string[];
      try {
        numbers = await deps.lookup.numbersOnFile(accountRef);
      } catch (err) {
        const code = err instanceof ToneguardError ? err.code : 'verification_lookup_failed';
        record('verification.lookup', 'failure', actor, callSid, { account, code });
        throw err;
      }
      // The call may have ended while the CRM answered.
      const state = liveState(callSid);
      const from = calls.get(callSid)?.from ?? '';
      state.otp?.challenge.void();
      state.otp = undefined;
      state.account = { key: account, numbers, callerIdOnFile: numbers.some((n) => sameNumber(n, from)) };
      const current = publish(callSid, state);
      record('verification.lookup', 'success', actor, callSid, { account, numbersOnFile: numbers.length, callerIdOnFile: state.account.callerIdOnFile, level: current.level });
      return current;
    },

    async sendCode(callSid, numberIndex, actor) {
      if (!deps.messages || !config.smsFrom) throw new ToneguardError('verification_unavailable', 'verification.smsFrom is not configured', 503);
      const state = liveState(callSid);
      const account = state.account;
      if (!account) throw new ToneguardError('account_not_looked_up', 'look the account up before sending a code', 409);
      const to = account.numbers[numberIndex];
      if (to === undefined) throw new ToneguardError('number_not_on_file', 'no number on file at that index', 422);
      if (captures.activeForCall(callSid)) throw new ToneguardError('capture_active', 'a capture is already running on this call', 409);
      const now = clock.now();
      if (!codesPerAccount.allows(account.key, now)) refuseOverQuota(actor, callSid, 'codes_per_account');
      if (!codesPerAgent.allows(actor.id, now)) refuseOverQuota(actor, callSid, 'codes_per_agent');
      codesPerAccount.take(account.key, now);
      codesPerAgent.take(actor.id, now);

      state.otp?.challenge.void();
      const issued = OneTimeCodeChallenge.issue({ key: codeKey, length: config.codeLength, ttlMs: config.codeTtlMs, maxAttempts: config.maxAttempts, nowMs: now });
      const otp = { challenge: issued.challenge, view: { state: 'sent' as OtpView['state'], captureId: '', numberLast2: lastTwo(to) } };
      const capture = captures.start({
        callSid,
        fields: [{ name: 'otp' }],
        options: { maxAttempts: config.maxAttempts, firstDigitTimeoutMs: config.codeTtlMs, totalTimeoutMs: config.codeTtlMs },
        actor,
        oneTimeCode: { length: config.codeLength, check: (typed) => codeTyped(callSid, state, otp, typed) },
      });
      otp.view.captureId = capture.id;
      const details = { account: account.key, numberIndex, numberLast2: otp.view.numberLast2, captureId: capture.id };
      try {
        const minutes = Math.ceil(config.codeTtlMs / 60_000);
        await deps.messages.createMessage({ to, from: config.smsFrom, body: `Your verification code is ${issued.code}. Key it on your phone when asked. It expires in ${minutes} min. Nobody will ask you to read it out.` });
      } catch (err) {
        issued.challenge.void();
        if (capture.isActive()) capture.cancel('otp_not_sent', actor);
        record('verification.otp_sent', 'failure', actor, callSid, details);
        logger.error({ callSid, errorType: err instanceof Error ? err.name : typeof err }, 'one-time code could not be sent');
        throw err instanceof ToneguardError ? err : new ToneguardError('twilio_api_error', 'the one-time code could not be sent', 502);
      }
      // Keyed to the account the code was sent for: a lookup meanwhile voids it.
      if (state.account === account) state.otp = otp;
      else {
        issued.challenge.void();
        if (capture.isActive()) capture.cancel('verification_superseded', actor);
      }
      record('verification.otp_sent', 'success', actor, callSid, details);
      return { captureId: capture.id, verification: publish(callSid, state) };
    },

    levelOf(callSid) {
      const state = states.get(callSid);
      return state ? view(state).level : 'none';
    },
  };
}
