import type { CaptureView } from '../../../capture/types.js';

/** How the simulated agent drives a capture: the agent REST API, or the capture service in-process. */
export interface AgentControl {
  startCapture(callSid: string, fields: string[]): Promise<string>;
  view(captureId: string): Promise<CaptureView>;
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
  };
}
