import type { SdpParty } from '../relay/types.js';
import type { NgDict, NgValue } from './document.js';
import { canonicalEntries, canonicalName, parseRtppFlags } from './flags.js';

/** Who the call is bound to and which SDP party is the customer, as the proxy's flags said. */
export interface Binding {
  agentId?: string;
  caller?: SdpParty;
}

/** The SIP dialog a command is about. `fromTag` is always the offering party's tag, `toTag` the answerer's. */
export interface Dialog {
  callId: string;
  fromTag?: string;
  toTag?: string;
  viaBranch?: string;
}

export interface SdpExchange extends Dialog {
  fromTag: string;
  sdp: string;
  /** Canonical flag words (`flags` list and bare `rtpp-flags` words). */
  flags: ReadonlySet<string>;
  binding: Binding;
  /** Said back in the reply's `warning`: what was ignored and why. */
  warnings: string[];
}

export type NgCommand =
  | { name: 'ping' }
  | ({ name: 'offer'; /** The offer came in a SIP reply (late offer in a 200): the callee offered. */ fromReply: boolean } & SdpExchange)
  | ({ name: 'answer'; toTag: string } & SdpExchange)
  | ({ name: 'delete'; flags: ReadonlySet<string> } & Dialog)
  | ({ name: 'query' } & Dialog)
  /** Any other command, answered with rtpengine's "Unrecognized command". */
  | { name: 'unsupported' };

export type ParsedCommand = { ok: true; command: NgCommand } | { ok: false; reason: string };

export const AGENT_KEY = 'toneguard-agent';
export const CALLER_KEY = 'toneguard-caller';

const MAX_CALL_ID = 1024;
const MAX_TAG = 256;
/** An agent identity is a JWT subject: printable ASCII without spaces. */
const AGENT_ID = /^[\x21-\x7e]{1,128}$/;

class Refusal extends Error {}

/**
 * Turns one decoded ng dictionary (untrusted) into a typed command, once, at the edge. Lenient as
 * rtpengine: unknown keys and flags are ignored; keys may be spelled with spaces or hyphens.
 * Refusals use rtpengine's error reasons, which the modules log.
 */
export function parseCommand(dict: NgDict): ParsedCommand {
  try {
    return { ok: true, command: toCommand(dict) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    throw err;
  }
}

function toCommand(dict: NgDict): NgCommand {
  const entries = canonicalEntries(dict);
  const command = entries.get('command');
  if (typeof command !== 'string') throw new Refusal('No command given');
  switch (canonicalName(command)) {
    case 'ping':
      return { name: 'ping' };
    case 'offer': {
      const exchange = sdpExchange(entries);
      return { name: 'offer', fromReply: text(entries, 'sip-message-type', 32) === 'sip_reply', ...exchange };
    }
    case 'answer': {
      const exchange = sdpExchange(entries);
      const toTag = exchange.toTag ?? refuse('No to-tag in message');
      return { name: 'answer', ...exchange, toTag };
    }
    case 'delete':
      return { name: 'delete', ...dialog(entries), flags: flagWords(entries).flags };
    case 'query':
      return { name: 'query', ...dialog(entries) };
    default:
      return { name: 'unsupported' };
  }
}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** A string (or integer, as `get_int_str` accepts) of at most `max` characters; absent when missing; refused when unusable. */
function text(entries: Map<string, NgValue>, key: string, max: number): string | undefined {
  const value = entries.get(key);
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value.length === 0 || value.length > max) refuse(`Invalid ${key} in message`);
  return value;
}

function dialog(entries: Map<string, NgValue>): Dialog {
  const callId = text(entries, 'call-id', MAX_CALL_ID) ?? refuse('No call-id in message');
  const fromTag = text(entries, 'from-tag', MAX_TAG);
  const toTag = text(entries, 'to-tag', MAX_TAG);
  const viaBranch = text(entries, 'via-branch', MAX_TAG);
  return { callId, ...(fromTag ? { fromTag } : {}), ...(toTag ? { toTag } : {}), ...(viaBranch ? { viaBranch } : {}) };
}

function sdpExchange(entries: Map<string, NgValue>): SdpExchange {
  const sdp = entries.get('sdp');
  if (typeof sdp !== 'string' || sdp.length === 0) refuse('No SDP body in message');
  const base = dialog(entries);
  const fromTag = base.fromTag ?? refuse('No from-tag in message');
  const words = flagWords(entries);
  const warnings: string[] = [];
  return { ...base, fromTag, sdp, flags: words.flags, binding: binding(entries, words.keys, warnings), warnings };
}

/**
 * The flag words from the `flags` list and `rtpp-flags`, and the `key=value` words among them.
 * Kamailio sends a `key=value` word of its flags as a top-level key, a bare word in `flags`, and
 * a string given as the function's second argument whole in `rtpp-flags`.
 */
function flagWords(entries: Map<string, NgValue>): { flags: Set<string>; keys: Map<string, NgValue> } {
  const flags = new Set<string>();
  const keys = new Map<string, NgValue>();
  const word = (item: string) => {
    const eq = item.indexOf('=');
    if (eq > 0) {
      const key = canonicalName(item.slice(0, eq));
      if (!keys.has(key)) keys.set(key, item.slice(eq + 1));
    } else if (item) flags.add(canonicalName(item));
  };
  const list = entries.get('flags');
  if (Array.isArray(list)) for (const item of list) if (typeof item === 'string') word(item);
  const rtpp = entries.get('rtpp-flags');
  if (typeof rtpp === 'string') {
    const parsed = parseRtppFlags(rtpp);
    for (const flag of parsed.flags) word(flag);
    for (const [key, value] of parsed.keys) if (!keys.has(key)) keys.set(key, value);
  }
  return { flags, keys };
}

/** `toneguard-agent` and `toneguard-caller`: a top-level key first, then a flag word; a disagreement is warned about. */
function binding(entries: Map<string, NgValue>, flagKeys: Map<string, NgValue>, warnings: string[]): Binding {
  const pick = (key: string): string | undefined => {
    const values = [entries.get(key), flagKeys.get(key)].filter((v) => v !== undefined).map((v) => (typeof v === 'number' ? String(v) : v));
    const first = values[0];
    if (first === undefined) return undefined;
    if (typeof first !== 'string') {
      warnings.push(`${key} ignored: not a string`);
      return undefined;
    }
    if (values.some((v) => v !== first)) warnings.push(`${key} given twice with different values: the first was used`);
    return first;
  };
  const out: Binding = {};
  const agent = pick(AGENT_KEY);
  if (agent !== undefined) {
    if (AGENT_ID.test(agent)) out.agentId = agent;
    else warnings.push(`${AGENT_KEY} ignored: not a valid agent identity`);
  }
  const caller = pick(CALLER_KEY)?.toLowerCase();
  if (caller === 'offerer' || caller === 'answerer') out.caller = caller;
  else if (caller !== undefined) warnings.push(`${CALLER_KEY} ignored: must be offerer or answerer`);
  return out;
}
