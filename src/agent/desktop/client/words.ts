import type { CaptureView, VerificationView } from '../../contract.js';

/** What the agent reads: field names, error codes and capture states as sentences. Never a value. */

const FIELD_LABELS: Record<string, string> = {
  card_number: 'card number',
  expiry: 'expiry date',
  cvv: 'security code',
  postal_code: 'postal code',
  routing_number: 'routing number',
  account_number: 'account number',
  ssn: 'social security number',
  otp: 'one-time code',
};

/** Stable error codes from the API, the events socket and field views, as sentences for the agent. */
const MESSAGES: Record<string, string> = {
  timeout: 'The caller took too long to key the digits. Reset the field or start again.',
  invalid_luhn: 'That card number is not valid. Ask the caller to key it again.',
  invalid_expiry: 'That expiry date is in the past or not a real month.',
  invalid_cvv: 'The security code has the wrong number of digits for this card.',
  invalid_length: 'The caller keyed the wrong number of digits.',
  invalid_ssn: 'That is not a valid social security number.',
  invalid_checksum: 'That number fails its check digit. Ask the caller to key it again.',
  too_many_attempts: 'Too many wrong attempts: the capture has stopped. Start a new one if the caller agrees.',
  capture_active: 'A capture is already running on this call.',
  capture_in_progress: 'A capture is already running on this call.',
  capture_not_active: 'This capture has already finished.',
  capture_not_found: 'This capture no longer exists.',
  field_not_found: 'This capture has no such field.',
  call_not_found: 'This call has ended.',
  agent_cancelled: 'The capture was cancelled.',
  call_ended: 'The call ended before the capture finished.',
  unauthenticated: 'Your sign-in is not valid or has expired. Please sign in again.',
  forbidden: 'You are not allowed to do that on this call.',
  rate_limited: 'Too many requests. Wait a minute and try again.',
  invalid_request: 'Toneguard refused the request as malformed.',
  malformed_body: 'Toneguard refused the request as malformed.',
  not_found: 'Toneguard does not know that address. Reload the page.',
  network: 'Toneguard cannot be reached. Check your connection.',
  simulation_running: 'A simulated call is already playing. Wait for it to end.',
  simulation_failed: 'The simulated call could not be placed.',
  verification_required: 'Verify the caller before taking a card.',
  verification_unavailable: 'Caller verification is not set up on this Toneguard.',
  verification_lookup_failed: 'The customer record could not be reached. Try again.',
  account_not_found: 'No customer has that account reference.',
  account_not_looked_up: 'Look the account up before sending a code.',
  number_not_on_file: 'There is no such number on file.',
  otp_mismatch: 'The caller keyed a wrong code.',
  evidence_unreadable: 'The evidence summary is damaged: run toneguard evidence --out DIR again.',
};

const LEVEL_LABELS: Record<VerificationView['level'], string> = {
  none: 'Not verified',
  attested: 'Caller ID attested by the carrier',
  number_on_file: 'Calling from a number on file (attested)',
  otp_verified: 'Verified by one-time code',
};

/** The caller verification line: the level and, for a code, the last two digits of where it went. Never a code. */
export function verificationSummary(verification: VerificationView | undefined): string {
  if (!verification) return 'Caller verification: not available.';
  const otp = verification.otp;
  const code = otp ? ` · code to number ending ${otp.numberLast2.replace(/\D/g, '').slice(-2)}: ${otp.state}` : '';
  return `Caller verification: ${LEVEL_LABELS[verification.level] ?? verification.level}${code}.`;
}

export function sentence(code: string): string {
  const known = MESSAGES[code];
  if (known) return known;
  return /^[a-z_]{1,48}$/.test(code) ? `Something went wrong (${code}).` : 'Something went wrong.';
}

/** The only way a card number reaches the screen: its last four digits at most. */
export function lastFour(last4: string | undefined): string {
  return String(last4 ?? '').replace(/\D/g, '').slice(-4);
}

export function fieldLabel(name: string): string {
  return FIELD_LABELS[name] ?? name.replace(/_/g, ' ');
}

export function digitsText(count: number): string {
  return `${count} ${count === 1 ? 'digit' : 'digits'}`;
}

export function captureSummary(view: CaptureView): string {
  switch (view.state) {
    case 'active':
      return view.currentField ? `Waiting for the caller to key the ${fieldLabel(view.currentField)}.` : 'Capture running.';
    case 'tokenizing':
      return 'All digits received; securing them…';
    case 'complete': {
      const last4 = lastFour(view.result?.last4);
      return `Capture complete${view.result?.brand ? `: ${view.result.brand}` : ''}${last4 ? ` ending ${last4}` : ''}.`;
    }
    case 'cancelled':
      return 'Capture cancelled.';
    default:
      return view.error ? `Capture failed. ${sentence(view.error.code)}` : 'Capture failed.';
  }
}
