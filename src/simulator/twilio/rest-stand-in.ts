import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedTwilioRequest {
  method: string;
  /** Path and query, e.g. `/2010-04-01/Accounts/AC…/Calls.json`. */
  path: string;
  /** The decoded HTTP Basic credentials (`sid:token`), when sent. */
  basicAuth: string | null;
  params: Record<string, string>;
}

export interface TwilioRestStandIn {
  /** Base URL to configure as `twilio.apiBaseUrl`. */
  url: string;
  requests: RecordedTwilioRequest[];
  /** Called for every `Calls.json` create after the answer is sent, with the new CallSid. */
  onCreateCall(listener: (request: RecordedTwilioRequest, callSid: string) => void): void;
  /** The first `Calls.json` create (past or future) whose request matches. */
  waitForCall(matches: (request: RecordedTwilioRequest) => boolean, timeoutMs?: number): Promise<{ request: RecordedTwilioRequest; callSid: string }>;
  close(): Promise<void>;
}

export function randomSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function basicAuth(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : null;
}

/**
 * A local stand-in for Twilio's REST API (Twilio itself is unreachable from tests and demos):
 * records every request and answers `Calls.json` and `Messages.json` creates with a fresh sid.
 * Twilio-compatible APIs (SignalWire's Compatibility API) share it with their own call ids.
 */
export async function startTwilioRestStandIn(listenPort = 0, newCallSid: () => string = () => randomSid('CA')): Promise<TwilioRestStandIn> {
  const requests: RecordedTwilioRequest[] = [];
  const created: { request: RecordedTwilioRequest; callSid: string }[] = [];
  const listeners: ((request: RecordedTwilioRequest, callSid: string) => void)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      const recorded: RecordedTwilioRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        basicAuth: basicAuth(req),
        params: Object.fromEntries(new URLSearchParams(body)),
      };
      requests.push(recorded);
      res.setHeader('content-type', 'application/json');
      if (recorded.method === 'POST' && /\/Calls\.json$/.test(recorded.path)) {
        const sid = newCallSid();
        res.statusCode = 201;
        res.end(JSON.stringify({ sid, status: 'queued', to: recorded.params.To, from: recorded.params.From }));
        created.push({ request: recorded, callSid: sid });
        for (const listener of listeners) listener(recorded, sid);
        return;
      }
      if (recorded.method === 'POST' && /\/Messages\.json$/.test(recorded.path)) {
        res.statusCode = 201;
        res.end(JSON.stringify({ sid: randomSid('SM'), status: 'queued', to: recorded.params.To, from: recorded.params.From }));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ code: 20404, message: 'not found' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    onCreateCall: (listener) => void listeners.push(listener),
    waitForCall: (matches, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const found = created.find((c) => matches(c.request));
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error('Twilio stand-in: no matching calls.create')), timeoutMs);
        listeners.push((request, callSid) => {
          if (!matches(request)) return;
          clearTimeout(timer);
          resolve({ request, callSid });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
