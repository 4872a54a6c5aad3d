import type { CallView, VerificationView } from '../agent/contract.js';
import type { CaptureView } from '../capture/types.js';

/** How the simulated agent drives a capture: the agent REST API, or the capture service in-process. */
export interface AgentControl {
  startCapture(callSid: string, fields: string[]): Promise<string>;
  view(captureId: string): Promise<CaptureView>;
  /** Looks the caller's account up (caller verification). */
  lookUpAccount(callSid: string, accountRef: string): Promise<VerificationView>;
  /** Texts a one-time code to the number on file at `numberIndex`; resolves to the `otp` capture's id. */
  sendCode(callSid: string, numberIndex: number): Promise<string>;
  verification(callSid: string): Promise<VerificationView | undefined>;
}

/** The agent desktop's path: `POST /v1/calls/{callSid}/captures`, `GET /v1/captures/{id}` with a bearer JWT. */
export function restAgentControl(baseUrl: string, token: string): AgentControl {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(baseUrl.replace(/\/$/, '') + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const error = json.error as { code?: string } | undefined;
      throw new Error(`agent API ${method} ${path.split('/')[2]} answered ${response.status} ${error?.code ?? ''}`.trim());
    }
    return json;
  };
  const viewOf = (json: Record<string, unknown>) => ((json.view ?? json.capture ?? json) as CaptureView);
  return {
    async startCapture(callSid, fields) {
      return viewOf(await call('POST', `/v1/calls/${callSid}/captures`, { fields })).id;
    },
    async view(captureId) {
      return viewOf(await call('GET', `/v1/captures/${captureId}`));
    },
    async lookUpAccount(callSid, accountRef) {
      return (await call('POST', `/v1/calls/${callSid}/verification`, { accountRef })).verification as VerificationView;
    },
    async sendCode(callSid, numberIndex) {
      return (await call('POST', `/v1/calls/${callSid}/verification/otp`, { numberIndex })).captureId as string;
    },
    async verification(callSid) {
      const { calls } = (await call('GET', '/v1/calls')) as { calls: CallView[] };
      return calls.find((c) => c.callSid === callSid)?.verification;
    },
  };
}
