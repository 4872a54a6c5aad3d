import { isIPv6 } from 'node:net';
import type { NgDict, NgValue } from '../ng/document.js';
import type { SdpParty } from '../relay/types.js';
import type { Branch, SipCall } from './call.js';

type Counters = { packets: number; bytes: number; errors: number };
const zero = (): Counters => ({ packets: 0, bytes: 0, errors: 0 });

/**
 * What `query` (and `delete`, unless `fast`) reports, in rtpengine's shape: `created`,
 * `last signal`, `totals.RTP`/`totals.RTCP` (what Kamailio's `$rtpestat` reads) and per tag
 * its audio stream. The relay counts RTP and RTCP together, so RTCP reads zero.
 */
export function callStats(call: SipCall): Record<string, NgValue> {
  const totals = zero();
  const tags: NgDict = Object.create(null) as NgDict;
  for (const branch of call.branches.values()) {
    const stats = branch.relay.stats();
    for (const party of ['offerer', 'answerer'] as const) {
      totals.packets += stats[party].packets;
      totals.bytes += stats[party].bytes;
      totals.errors += stats[party].errors;
    }
    const answererTag = [...branch.answererTags].at(-1);
    if (!(call.offererTag in tags)) tags[call.offererTag] = tagStats(call.offererTag, answererTag, branch, 'offerer', stats.offerer);
    if (answererTag) tags[answererTag] = tagStats(answererTag, call.offererTag, branch, 'answerer', stats.answerer);
  }
  return {
    created: Math.floor(call.createdAt / 1000),
    created_us: (call.createdAt % 1000) * 1000,
    'last signal': Math.floor(call.lastSignalAt / 1000),
    totals: { RTP: { ...totals }, RTCP: zero() },
    tags,
  };
}

function tagStats(tag: string, inDialogueWith: string | undefined, branch: Branch, party: SdpParty, stats: Counters): NgDict {
  const peer = branch.peers[party];
  const stream: Record<string, NgValue> = { stats: { ...stats } };
  const local = branch.local[party];
  if (local) stream['local port'] = local.rtpPort;
  if (peer) stream.endpoint = { family: isIPv6(peer.address) ? 'IP6' : 'IP4', address: peer.address, port: peer.port };
  return Object.assign(Object.create(null) as NgDict, {
    tag,
    ...(inDialogueWith ? { 'in dialogue with': inDialogueWith } : {}),
    medias: [{ index: branch.audioIndex + 1, type: 'audio', protocol: 'RTP/AVP', streams: [stream] }],
  });
}
