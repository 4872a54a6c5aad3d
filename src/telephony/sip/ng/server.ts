import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { NgListen } from '../listen.js';
import { parseCommand, type NgCommand } from './command.js';
import { encodeReply, parseDocument, splitCookie } from './datagram.js';
import type { NgDict } from './document.js';
import { ReplyCache } from './reply-cache.js';
import { errorReply } from './replies.js';

/** Why a datagram got no answer at all. */
export type NgDropReason = 'not_allowed' | 'no_cookie';

/** What an answered datagram came to: the command it named (or `invalid`) and the reply's `result`. */
export interface NgOutcome {
  command: NgCommand['name'] | 'invalid';
  result: string;
  /** A retransmission answered from the reply cache. */
  duplicate: boolean;
}

export interface NgServerOptions {
  listen: NgListen;
  /** Whether a sender may drive calls (the allow-list). Checked before anything is parsed. */
  allowed(address: string): boolean;
  handle(command: NgCommand, source: RemoteInfo): Promise<NgDict>;
  replyCache: { ttlMs: number; maxEntries: number };
  onDropped(reason: NgDropReason, source: RemoteInfo): void;
  onAnswered(outcome: NgOutcome): void;
  /** A handler threw (the sender got `Internal error`), or the socket failed to send. */
  onError(err: unknown): void;
}

export interface NgServer {
  readonly address: { address: string; port: number };
  close(): Promise<void>;
}

interface Answer {
  bytes: Buffer;
  command: NgOutcome['command'];
  result: string;
}

/**
 * The ng control socket: `<cookie> <bencoded dict>` datagrams in, the reply with the same cookie
 * out. Retransmissions (same sender and cookie) get the cached reply. A datagram from a sender
 * not allowed, or without a cookie, is dropped; any other malformed one is answered with an error.
 * Nothing a datagram holds can make this throw.
 */
export async function startNgServer(options: NgServerOptions): Promise<NgServer> {
  const socket: Socket = createSocket({ type: options.listen.type });
  const cache = new ReplyCache<Answer>(options.replyCache);

  const answer = async (cookie: string, document: Buffer, source: RemoteInfo): Promise<Answer> => {
    const parsed = parseDocument(document);
    if (!parsed.ok) return { bytes: encodeReply(cookie, 'bencode', errorReply(parsed.reason)), command: 'invalid', result: 'error' };
    const command = parseCommand(parsed.dict);
    let reply: NgDict;
    if (!command.ok) reply = errorReply(command.reason);
    else {
      try {
        reply = await options.handle(command.command, source);
      } catch (err) {
        options.onError(err);
        reply = errorReply('Internal error');
      }
    }
    return {
      bytes: encodeReply(cookie, parsed.format, reply),
      command: command.ok ? command.command.name : 'invalid',
      result: typeof reply.result === 'string' ? reply.result : 'ok',
    };
  };

  socket.on('message', (message: Buffer, source: RemoteInfo) => {
    if (!options.allowed(source.address)) return options.onDropped('not_allowed', source);
    const split = splitCookie(message);
    if (!split) return options.onDropped('no_cookie', source);
    // Keyed by sender as well as cookie: two proxies sharing a server id may make the same cookie (sipwise/rtpengine#1867).
    const produce = () =>
      answer(split.cookie, split.document, source).catch((err: unknown): Answer => {
        options.onError(err);
        return { bytes: encodeReply(split.cookie, 'bencode', errorReply('Internal error')), command: 'invalid', result: 'error' };
      });
    const { reply, duplicate } = cache.reply(`${source.address}\u0000${split.cookie}`, produce);
    void reply.then(({ bytes, command, result }) => {
      options.onAnswered({ command, result, duplicate });
      socket.send(bytes, source.port, source.address);
    });
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.listen.port, options.listen.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // A send to a vanished sender surfaces here; it concerns that sender only.
  socket.on('error', (err) => options.onError(err));
  const bound = socket.address();
  return {
    address: { address: bound.address, port: bound.port },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
