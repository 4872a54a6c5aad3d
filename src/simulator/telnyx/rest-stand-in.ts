import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonBody } from '../json-rest-stand-in.js';
import { RequestLog } from '../request-log.js';

export interface RecordedTelnyxCommand {
  /** `dial`, or the action of `/v2/calls/{id}/actions/{action}` (`answer`, `streaming_start`, `hangup`, …). */
  action: string;
  /** The call the action is for; for `dial`, the call control id the stand-in made. */
  callControlId: string;
  /** The bearer API key sent. */
  apiKey: string | null;
  body: Record<string, unknown>;
}

export interface TelnyxRestStandIn {
  /** Base URL to configure as `telnyx.apiBaseUrl` (the client appends `/v2`). */
  url: string;
  commands: RecordedTelnyxCommand[];
  /** The first command (past or future) that matches. */
  waitFor(matches: (command: RecordedTelnyxCommand) => boolean, timeoutMs?: number): Promise<RecordedTelnyxCommand>;
  /** Answer the next `count` commands with this HTTP status (failure tests). */
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

export const randomCallControlId = () => `v3:${randomBytes(24).toString('base64url')}`;

const readJson = async (req: IncomingMessage) => ((await readJsonBody(req)) ?? {}) as Record<string, unknown>;

const ACTION_PATH = /^\/v2\/calls\/([^/]+)\/actions\/([a-z_]+)$/;

/**
 * A local stand-in for Telnyx's Call Control API (unreachable from tests and demos): records
 * every command and answers as Telnyx does, `dial` with a fresh call control id.
 */
export async function startTelnyxRestStandIn(listenPort = 0): Promise<TelnyxRestStandIn> {
  const log = new RequestLog<RecordedTelnyxCommand>('Telnyx command');
  let failures: { status: number; count: number } | undefined;

  const record = (entry: RecordedTelnyxCommand) => log.record(entry);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readJson(req).then((body) => {
      const auth = req.headers.authorization ?? '';
      const apiKey = auth.startsWith('Bearer ') ? auth.slice(7) : null;
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (failures && failures.count > 0) {
        failures.count--;
        return answer(failures.status, { errors: [{ code: '90018', title: 'Call has already ended' }] });
      }
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'POST' && path === '/v2/calls') {
        const callControlId = randomCallControlId();
        answer(200, { data: { call_control_id: callControlId, call_leg_id: randomBytes(8).toString('hex'), call_session_id: randomBytes(8).toString('hex'), is_alive: false, record_type: 'call' } });
        return record({ action: 'dial', callControlId, apiKey, body });
      }
      const action = ACTION_PATH.exec(path);
      if (req.method === 'POST' && action) {
        answer(200, { data: { result: 'ok' } });
        return record({ action: action[2], callControlId: decodeURIComponent(action[1]), apiKey, body });
      }
      answer(404, { errors: [{ code: '10005', title: 'Resource not found' }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commands: log.entries,
    waitFor: (matches, timeoutMs) => log.waitFor(matches, timeoutMs),
    failNext(status, count = 1) {
      failures = { status, count };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
