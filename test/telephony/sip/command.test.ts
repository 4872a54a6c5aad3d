import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand, type NgCommand } from '../../../src/telephony/sip/ng/command.js';
import type { NgDict, NgValue } from '../../../src/telephony/sip/ng/document.js';
import { canonicalName, parseRtppFlags } from '../../../src/telephony/sip/ng/flags.js';

const dict = (fields: Record<string, NgValue>): NgDict => Object.assign(Object.create(null) as NgDict, fields);
const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 2000 RTP/AVP 0\r\n';

function parsed(fields: Record<string, NgValue>): NgCommand {
  const result = parseCommand(dict(fields));
  if (!result.ok) throw new Error(result.reason);
  return result.command;
}

/** Kamailio's offer for `rtpengine_manage("replace-origin trust-address")`, in the order it emits keys. */
const kamailioOffer = {
  supports: ['load limit'],
  sdp: SDP,
  replace: ['origin'],
  'received-from': ['IP4', '192.0.2.10'],
  'call-id': 'a84b4c76e66710',
  'from-tag': '1928301774',
  command: 'offer',
  'sip-message-type': 'sip_request',
  flags: ['trust-address'],
};

describe('ng commands: untrusted dictionaries into typed commands, once', () => {
  it('reads what Kamailio sends', () => {
    const offer = parsed(kamailioOffer);
    expect(offer).toMatchObject({ name: 'offer', callId: 'a84b4c76e66710', fromTag: '1928301774', sdp: SDP, fromReply: false, binding: {} });
    if (offer.name === 'offer') expect([...offer.flags]).toEqual(['trust-address']);
  });

  it('accepts keys spelled with spaces, hyphens or underscores, and integers where strings are expected', () => {
    const a = parsed({ command: 'answer', sdp: SDP, 'call id': 42, from_tag: 'f', 'to tag': 't', 'via branch': 'z9hG4bK1', 'sip message type': 'sip_reply' });
    expect(a).toMatchObject({ name: 'answer', callId: '42', fromTag: 'f', toTag: 't', viaBranch: 'z9hG4bK1' });
    expect(canonicalName(' Received  From ')).toBe('received-from');
  });

  it('ignores unknown keys and flags, whatever their values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 10 }).filter((k) => !/^(command|sdp|call|from|to|via|flags|rtpp|toneguard|sip)/i.test(k.trim())), fc.jsonValue() as fc.Arbitrary<NgValue>, { maxKeys: 6 }), fc.array(fc.string(), { maxLength: 4 }), (extra, flags) => {
        const command = parsed({ ...extra, ...kamailioOffer, flags: [...flags.filter((f) => !f.includes('=')), 'trust-address'] });
        expect(command).toMatchObject({ name: 'offer', callId: 'a84b4c76e66710', fromTag: '1928301774' });
      }),
    );
  });

  it('never throws on any dictionary: it answers a typed command or a reason', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.array(fc.string(), { maxLength: 3 }), fc.constant(SDP));
    const keys = fc.constantFrom('command', 'call-id', 'from-tag', 'to-tag', 'via-branch', 'sdp', 'flags', 'rtpp-flags', 'toneguard-agent', 'toneguard-caller', 'sip-message-type', 'x');
    const commands = fc.constantFrom('ping', 'offer', 'answer', 'delete', 'query', 'list', 'OFFER', 'start recording');
    fc.assert(
      fc.property(fc.dictionary(keys, value, { maxKeys: 10 }), commands, (fields, command) => {
        const result = parseCommand(dict({ ...fields, ...(fields.command === undefined ? { command } : {}) }));
        if (!result.ok) expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses missing keys with rtpengine's reasons", () => {
    expect(parseCommand(dict({ command: 'offer', 'call-id': 'c', 'from-tag': 'f' }))).toEqual({ ok: false, reason: 'No SDP body in message' });
    expect(parseCommand(dict({ command: 'offer', sdp: SDP, 'from-tag': 'f' }))).toEqual({ ok: false, reason: 'No call-id in message' });
    expect(parseCommand(dict({ command: 'offer', sdp: SDP, 'call-id': 'c' }))).toEqual({ ok: false, reason: 'No from-tag in message' });
    expect(parseCommand(dict({ command: 'answer', sdp: SDP, 'call-id': 'c', 'from-tag': 'f' }))).toEqual({ ok: false, reason: 'No to-tag in message' });
    expect(parseCommand(dict({ command: 'delete' }))).toEqual({ ok: false, reason: 'No call-id in message' });
    expect(parseCommand(dict({ 'call-id': 'c' }))).toEqual({ ok: false, reason: 'No command given' });
    expect(parseCommand(dict({ command: 'offer', sdp: SDP, 'call-id': ['x'], 'from-tag': 'f' }))).toEqual({ ok: false, reason: 'Invalid call-id in message' });
  });

  it('names other commands unsupported, and ping needs nothing else', () => {
    expect(parsed({ command: 'list' })).toEqual({ name: 'unsupported' });
    expect(parsed({ command: 'block DTMF', 'call-id': 'c' })).toEqual({ name: 'unsupported' });
    expect(parsed({ command: 'ping' })).toEqual({ name: 'ping' });
  });

  it('delete carries its tags and flags (fatal, fast)', () => {
    expect(parsed({ command: 'delete', 'call-id': 'c', 'from-tag': 'f', 'via-branch': 'b', flags: ['fatal', 'fast'] })).toMatchObject({ name: 'delete', callId: 'c', fromTag: 'f', viaBranch: 'b', flags: new Set(['fatal', 'fast']) });
  });
});

describe('binding a call to an agent: toneguard-agent in all three places the modules put it', () => {
  const offer = (fields: Record<string, NgValue>) => parsed({ ...kamailioOffer, ...fields });

  it('from a top-level key (Kamailio and OpenSIPS, module-side flag parsing)', () => {
    expect(offer({ 'toneguard-agent': 'alice' })).toMatchObject({ binding: { agentId: 'alice' } });
  });

  it('from the flags list', () => {
    expect(offer({ flags: ['trust-address', 'toneguard-agent=bob', 'toneguard-caller=answerer'] })).toMatchObject({ binding: { agentId: 'bob', caller: 'answerer' } });
  });

  it('from rtpp-flags, the whole string of words Kamailio sends with a second argument', () => {
    const command = offer({ flags: [], 'rtpp-flags': 'replace-origin toneguard-agent=carol  toneguard-caller=Offerer codec-strip=[G722 G729] no-rtcp-attribute' });
    expect(command).toMatchObject({ binding: { agentId: 'carol', caller: 'offerer' } });
    if (command.name === 'offer') expect(command.flags).toEqual(new Set(['replace-origin', 'no-rtcp-attribute']));
  });

  it('takes the top-level key first, and warns when the places disagree', () => {
    const command = offer({ 'toneguard-agent': 'alice', 'rtpp-flags': 'toneguard-agent=mallory' });
    expect(command).toMatchObject({ binding: { agentId: 'alice' } });
    if (command.name === 'offer') expect(command.warnings.join()).toContain('different values');
  });

  it('ignores an unusable agent or caller with a warning that does not echo the value', () => {
    const command = offer({ 'toneguard-agent': 'has space', 'toneguard-caller': 'customer' });
    expect(command).toMatchObject({ binding: {} });
    if (command.name === 'offer') {
      expect(command.warnings).toHaveLength(2);
      expect(command.warnings.join()).not.toContain('has space');
    }
  });

  it('marks an offer made in a SIP reply (late offer in a 200)', () => {
    expect(offer({ 'sip-message-type': 'sip_reply' })).toMatchObject({ fromReply: true });
  });

  it('splits rtpp-flags as rtpengine does, brackets included', () => {
    const flags = parseRtppFlags(' trust-address  codec-strip=[PCMA G722] ICE=remove [broken toneguard-agent=x ');
    expect(flags.flags).toEqual(['trust-address', '[broken']);
    expect(Object.fromEntries(flags.keys)).toEqual({ 'codec-strip': ['PCMA', 'G722'], ice: 'remove', 'toneguard-agent': 'x' });
    expect(parseRtppFlags('a=[x y').keys.get('a')).toEqual(['x', 'y']);
  });
});
