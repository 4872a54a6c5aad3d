/**
 * How sure Toneguard is that the caller is the customer, weakest first. Each level builds on
 * the one before: a caller ID on file counts only on a call its carrier attested (STIR/SHAKEN
 * "A"), because an unattested caller ID is exactly what a fraudster spoofs.
 */
export const VERIFICATION_LEVELS = ['none', 'attested', 'number_on_file', 'otp_verified'] as const;
export type VerificationLevel = (typeof VERIFICATION_LEVELS)[number];

/** A STIR/SHAKEN attestation that passed verification: A (full), B (partial) or C (gateway). */
export type Attestation = 'A' | 'B' | 'C';

export function meetsLevel(have: VerificationLevel, need: VerificationLevel): boolean {
  return VERIFICATION_LEVELS.indexOf(have) >= VERIFICATION_LEVELS.indexOf(need);
}

/**
 * The attestation of a verified call from Twilio's `StirVerstat` (`TN-Validation-Passed-A`, …).
 * Failed validations and `No-TN-Validation` give null: they prove nothing about the caller.
 */
export function attestationOf(stirVerstat: string | undefined): Attestation | null {
  const passed = /^TN-Validation-Passed-([ABC])$/.exec(stirVerstat ?? '');
  return passed ? (passed[1] as Attestation) : null;
}

/** Digits only: a number on file and a caller ID in E.164 compare equal however they were punctuated. */
function normalised(number: string): string {
  return number.replace(/\D/g, '');
}

export function sameNumber(a: string, b: string): boolean {
  const left = normalised(a);
  return left.length >= 7 && left === normalised(b);
}

/** The last two digits: all the agent ever sees of a number on file. */
export function lastTwo(number: string): string {
  return normalised(number).slice(-2);
}

export interface LevelSignals {
  attestation: Attestation | null;
  callerIdOnFile: boolean;
  otpVerified: boolean;
}

export function levelOf(signals: LevelSignals): VerificationLevel {
  if (signals.otpVerified) return 'otp_verified';
  if (signals.attestation !== 'A') return 'none';
  return signals.callerIdOnFile ? 'number_on_file' : 'attested';
}
