import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRestRequest {
  method: string;
  /** Path and query. */
  path: string;
  authorization: string | null;
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  body: unknown;
}

/** What the stand-in answers a request with. */
export interface RestAnswer {
  status: number;
  body?: unknown;
}

/** Decides the answer to each request; undefined gives 404. */
export type RestRoutes = (request: RecordedRestRequest) => RestAnswer | undefined;

export interface JsonRestStandIn {
  /** Base URL to configure as the provider's `apiBaseUrl`. */
  url: string;
  requests: RecordedRestRequest[];
  /** The first request (past or future) that matches, answered already. */
  waitFor(matches: (request: RecordedRestRequest, answer: RestAnswer) => boolean, timeoutMs?: number): Promise<{ request: RecordedRestRequest; answer: RestAnswer }>;
  close(): Promise<void>;
}

/** A request's JSON body; undefined when it is empty or not JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A local stand-in for a provider's JSON REST API (the provider itself is unreachable from tests
 * and demos): records every request and answers as `routes` says.
 */
export async function startJsonRestStandIn(routes: RestRoutes, listenPort = 0): Promise<JsonRestStandIn> {
  const requests: RecordedRestRequest[] = [];
  const answered: { request: RecordedRestRequest; answer: RestAnswer }[] = [];
  const listeners: ((request: RecordedRestRequest, answer: RestAnswer) => void)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readJsonBody(req).then((body) => {
      const request: RecordedRestRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization ?? null, body };
      requests.push(request);
      const answer = routes(request) ?? { status: 404, body: { error: 'not found' } };
      res.statusCode = answer.status;
      if (answer.body === undefined) res.end();
      else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.body));
      }
      answered.push({ request, answer });
      for (const listener of listeners) listener(request, answer);
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
    waitFor: (matches, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const found = answered.find((a) => matches(a.request, a.answer));
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error('REST stand-in: no matching request')), timeoutMs);
        listeners.push((request, answer) => {
          if (!matches(request, answer)) return;
          clearTimeout(timer);
          resolve({ request, answer });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
