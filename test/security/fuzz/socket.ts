import { WebSocket } from 'ws';

/** One client frame: text or binary. */
export type SocketFrame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

export interface SocketOutcome {
  /** Set when the server closed the socket before we did. */
  closedByServer?: { code: number; reason: string };
  /** Every text the server sent. */
  received: string[];
}

/**
 * Waits for `ws` to open, sends `frames`, then waits until the server has read them all (a ping
 * answered after them) or closed the socket, and hangs up.
 */
export async function playFrames(ws: WebSocket, frames: SocketFrame[]): Promise<SocketOutcome> {
  const outcome: SocketOutcome = { received: [] };
  let weClosed = false;
  ws.on('message', (data) => outcome.received.push(data.toString()));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code, reason) => {
      if (!weClosed) outcome.closedByServer = { code, reason: reason.toString() };
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  for (const frame of frames) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(frame.kind === 'text' ? frame.text : frame.bytes, { binary: frame.kind === 'binary' });
  }
  if (ws.readyState === WebSocket.OPEN) {
    const answered = new Promise<void>((resolve) => ws.once('pong', () => resolve()));
    ws.ping();
    await Promise.race([answered, closed]);
  }
  if (ws.readyState === WebSocket.OPEN) {
    weClosed = true;
    ws.close(1000);
  }
  await closed;
  return outcome;
}
