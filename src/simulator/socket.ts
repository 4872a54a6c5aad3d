import { WebSocket, type ClientOptions } from 'ws';

/** Opens a client WebSocket; rejects with the status when the service refuses the upgrade. */
export async function openSocket(url: string, protocols: string[], options: ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return ws;
}

/** Resolves with the close code and reason, once the socket has closed. */
export const closedWith = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

/** Closes the socket, and drops it if it has not closed within two seconds. */
export async function closeSocket(ws: WebSocket, closed: Promise<unknown>): Promise<void> {
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'call ended');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}
