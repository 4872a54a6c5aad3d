import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink, type Actor } from '../../src/audit/types.js';
import { createCaptureService } from '../../src/capture/service.js';
import type { CaptureService, Keypress } from '../../src/capture/types.js';
import { configSchema } from '../../src/config/schema.js';
import { MemoryCallRegistry } from '../../src/state/calls.js';
import { createVerificationService, type MessageSender, type VerificationService } from '../../src/verification/service.js';
import { FakeClock, FakeTokenizer } from '../capture/fakes.js';

const ALICE: Actor = { type: 'agent', id: 'alice', roles: ['agent'] };
const BOB: Actor = { type: 'agent', id: 'bob', roles: ['agent'] };
const NUMBERS: Record<string, string[]> = { 'ACME-1': ['+15005550006', '+447700900123'], 'ACME-2': ['+15005550099'] };

/** The SMS edge: records each message (Twilio's API is unreachable from tests). */
class RecordingSender implements MessageSender {
  readonly sent: { to: string; body: string }[] = [];
  async createMessage(request: { to: string; from: string; body: string }): Promise<string> {
    this.sent.push(request);
    return `SM${this.sent.length}`;
  }
  lastCode(): string {
    return /(\d{6})/.exec(this.sent.at(-1)!.body)![1];
  }
}

let clock: FakeClock;
let calls: MemoryCallRegistry;
let captures: CaptureService;
let audit: MemoryAuditSink;
let sender: RecordingSender;
let service: VerificationService;
let callSeq = 0;

function setUp(overrides: Record<string, unknown> = {}) {
  const config = configSchema.parse({ verification: { smsFrom: '+15005550001', ...overrides } });
  clock = new FakeClock();
  calls = new MemoryCallRegistry();
  audit = new MemoryAuditSink();
  sender = new RecordingSender();
  captures = createCaptureService({ config: config.capture, tokenizer: new FakeTokenizer(), audit, clock });
  service = createVerificationService({
    config: config.verification,
    calls,
    captures,
    audit,
    logger: silentLogger(),
    clock,
    lookup: { numbersOnFile: async (ref) => NUMBERS[ref] ?? [] },
    messages: sender,
  });
}

function liveCall(stirVerstat = 'TN-Validation-Passed-A', from = '+15005550006'): string {
  const callSid = `CA${String(++callSeq).padStart(32, '0')}`;
  calls.upsert({ callSid, agentId: 'alice', from, state: 'bridged', startedAt: new Date(clock.now()).toISOString() });
  service.noteInboundCall(callSid, stirVerstat);
  return callSid;
}

function key(callSid: string, digits: string) {
  const session = captures.activeForCall(callSid)!;
  for (const digit of digits) session.press(digit as Keypress, clock.now(), 'inband');
}

const wrong = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10));
const refusal = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code: string }) => err.code);

describe('caller verification service', () => {
  beforeEach(() => setUp());

  it('counts a caller ID on file only on an attested call', async () => {
    const unattested = liveCall('No-TN-Validation');
    expect((await service.lookup(unattested, 'ACME-1', ALICE)).level).toBe('none');
    expect(calls.get(unattested)?.verification?.callerIdOnFile).toBe(true);
    const partial = liveCall('TN-Validation-Passed-B');
    expect((await service.lookup(partial, 'ACME-1', ALICE)).level).toBe('none');
    const spoofed = liveCall('TN-Validation-Passed-A', '+15005550123');
    expect((await service.lookup(spoofed, 'ACME-1', ALICE)).level).toBe('attested');
  });

  it('a wrong code until the attempt limit fails the otp capture and voids the code', async () => {
    const callSid = liveCall();
    await service.lookup(callSid, 'ACME-1', ALICE);
    const { captureId } = await service.sendCode(callSid, 0, ALICE);
    const code = sender.lastCode();
    for (let i = 0; i < 3; i++) key(callSid, wrong(code));
    expect(captures.get(captureId)?.view().state).toBe('failed');
    expect(calls.get(callSid)?.verification?.otp?.state).toBe('failed');
    expect(service.levelOf(callSid)).toBe('number_on_file');
    expect(audit.events.filter((r) => r.action === 'verification.otp_failed')).toHaveLength(3);
  });

  it('the right code keyed after a wrong one verifies; it is never in a view or an audit record', async () => {
    const callSid = liveCall();
    await service.lookup(callSid, 'ACME-1', ALICE);
    const { captureId } = await service.sendCode(callSid, 1, ALICE);
    const code = sender.lastCode();
    key(callSid, wrong(code));
    key(callSid, code);
    expect(service.levelOf(callSid)).toBe('otp_verified');
    const seen = JSON.stringify([audit.events, captures.get(captureId)?.view(), calls.get(callSid)]);
    expect(seen).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    expect(seen).not.toContain('447700900123');
  });

  it('a code not keyed within its time-to-live ends the otp capture as expired', async () => {
    const callSid = liveCall();
    await service.lookup(callSid, 'ACME-1', ALICE);
    await service.sendCode(callSid, 0, ALICE);
    clock.advance(300_000);
    expect(calls.get(callSid)?.verification?.otp?.state).toBe('expired');
    expect(captures.activeForCall(callSid)).toBeUndefined();
    expect(service.levelOf(callSid)).toBe('number_on_file');
  });

  it('a code cannot go to a number that is not on file, nor before a lookup', async () => {
    const callSid = liveCall();
    expect(await refusal(service.sendCode(callSid, 0, ALICE))).toBe('account_not_looked_up');
    await service.lookup(callSid, 'ACME-2', ALICE);
    expect(await refusal(service.sendCode(callSid, 1, ALICE))).toBe('number_not_on_file');
    expect(sender.sent).toHaveLength(0);
  });

  it('limits codes per account and per agent, and lookups per agent', async () => {
    setUp({ codesPerAccountPerHour: 2, codesPerAgentPerHour: 3, lookupsPerAgentPerHour: 3 });
    const first = liveCall();
    await service.lookup(first, 'ACME-1', ALICE);
    await service.sendCode(first, 0, ALICE);
    captures.activeForCall(first)?.cancel('test', ALICE);
    await service.sendCode(first, 0, ALICE);
    captures.activeForCall(first)?.cancel('test', ALICE);
    expect(await refusal(service.sendCode(first, 0, ALICE))).toBe('rate_limited');
    const second = liveCall();
    await service.lookup(second, 'ACME-2', ALICE);
    await service.sendCode(second, 0, ALICE);
    captures.activeForCall(second)?.cancel('test', ALICE);
    expect(await refusal(service.sendCode(second, 0, ALICE))).toBe('rate_limited');
    expect(await refusal(service.lookup(second, 'ACME-2', ALICE))).toBe('resolved');
    expect(await refusal(service.lookup(second, 'ACME-2', ALICE))).toBe('rate_limited');
    expect(await refusal(service.lookup(second, 'ACME-2', BOB))).toBe('resolved');
    expect(audit.events.filter((r) => r.action === 'verification.refused').map((r) => r.details?.reason)).toEqual(['codes_per_account', 'codes_per_agent', 'lookups_per_agent']);
    clock.advance(60 * 60_000);
    expect(await refusal(service.lookup(second, 'ACME-2', ALICE))).toBe('resolved');
  });

  it('a new account lookup voids the code sent for the previous one', async () => {
    const callSid = liveCall();
    await service.lookup(callSid, 'ACME-1', ALICE);
    await service.sendCode(callSid, 0, ALICE);
    const code = sender.lastCode();
    await service.lookup(callSid, 'ACME-2', ALICE);
    key(callSid, code);
    expect(service.levelOf(callSid)).not.toBe('otp_verified');
  });

  it('a text message that cannot be sent cancels the otp capture and is audited as a failure', async () => {
    const callSid = liveCall();
    await service.lookup(callSid, 'ACME-1', ALICE);
    sender.createMessage = async () => {
      throw new Error('provider down');
    };
    expect(await refusal(service.sendCode(callSid, 0, ALICE))).toBe('twilio_api_error');
    expect(captures.activeForCall(callSid)).toBeUndefined();
    expect(calls.get(callSid)?.verification?.otp).toBeNull();
    expect(audit.events.find((r) => r.action === 'verification.otp_sent')?.outcome).toBe('failure');
  });

  it('an otp field cannot be requested without a one-time code behind it', () => {
    const callSid = liveCall();
    expect(() => captures.start({ callSid, fields: [{ name: 'otp' }], actor: ALICE })).toThrow(expect.objectContaining({ code: 'invalid_fields' }));
  });

  it('without a configured CRM or sender, lookups and codes are unavailable', async () => {
    const config = configSchema.parse({});
    const bare = createVerificationService({ config: config.verification, calls, captures, audit, logger: silentLogger(), clock });
    const callSid = liveCall();
    expect(await refusal(bare.lookup(callSid, 'ACME-1', ALICE))).toBe('verification_unavailable');
    expect(await refusal(bare.sendCode(callSid, 0, ALICE))).toBe('verification_unavailable');
  });
});
