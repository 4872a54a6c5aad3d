import { randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { readJsonBody } from '../json-rest-stand-in.js';
import { RequestLog } from '../request-log.js';

export interface RecordedVonageRequest {
  method: string;
  path: string;
  /** The call uuid: the one made for a create, or the one a `PUT /v1/calls/{uuid}` names. */
  uuid: string;
  /** The bearer JWT verified against the application's public key, with the application id claim. */
  authorized: boolean;
  body: Record<string, unknown>;
}

export interface VonageRestStandIn {
  /** Base URL to configure as `vonage.apiBaseUrl`. */
  url: string;
  requests: RecordedVonageRequest[];
  waitFor(matches: (request: RecordedVonageRequest) => boolean, timeoutMs?: number): Promise<RecordedVonageRequest>;
  /** Answer the next `count` requests with this HTTP status (failure tests). */
  failNext(status: number, count?: number): void;
  /** Checks requests against another application from now on (the service's, when it has its own key). */
  trust(applicationId: string, publicKey: KeyObject): void;
  close(): Promise<void>;
}

const readJson = async (req: IncomingMessage) => ((await readJsonBody(req)) ?? {}) as Record<string, unknown>;

const CALL_PATH = /^\/v1\/calls\/([0-9a-fA-F-]{32,36})$/;

/**
 * A local stand-in for Vonage's Voice API (unreachable from tests and demos): checks each
 * request's application JWT (RS256, the application's public key), records it, and answers
 * a create with a fresh call uuid, as Vonage does.
 */
export async function startVonageRestStandIn(applicationId: string, publicKey: KeyObject, listenPort = 0): Promise<VonageRestStandIn> {
  let trusted = { applicationId, publicKey };
  const log = new RequestLog<RecordedVonageRequest>('Vonage request');
  let failures: { status: number; count: number } | undefined;

  const authorized = async (req: IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    try {
      const { payload } = await jwtVerify(header.slice(7), trusted.publicKey, { algorithms: ['RS256'] });
      return payload.application_id === trusted.applicationId;
    } catch {
      return false;
    }
  };

  const record = (entry: RecordedVonageRequest) => log.record(entry);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void Promise.all([readJson(req), authorized(req)]).then(([body, isAuthorized]) => {
      const answer = (status: number, json?: unknown) => {
        res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
        res.end(json === undefined ? undefined : JSON.stringify(json));
      };
      const path = (req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      if (failures && failures.count > 0) {
        failures.count--;
        return answer(failures.status, { type: 'https://developer.nexmo.com/api-errors#bad-request', title: 'Bad Request' });
      }
      if (!isAuthorized) return answer(401, { type: 'https://developer.nexmo.com/api-errors#unauthorized', title: 'Unauthorized' });
      if (method === 'POST' && path === '/v1/calls') {
        const uuid = randomUUID();
        answer(201, { uuid, status: 'started', direction: 'outbound', conversation_uuid: `CON-${randomUUID()}` });
        return record({ method, path, uuid, authorized: isAuthorized, body });
      }
      const call = CALL_PATH.exec(path);
      if (method === 'PUT' && call) {
        answer(204);
        return record({ method, path, uuid: call[1], authorized: isAuthorized, body });
      }
      answer(404, { title: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: log.entries,
    waitFor: (matches, timeoutMs) => log.waitFor(matches, timeoutMs),
    failNext(status, count = 1) {
      failures = { status, count };
    },
    trust(id, key) {
      trusted = { applicationId: id, publicKey: key };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
