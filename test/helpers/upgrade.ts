import { WebSocket } from 'ws';

/** The HTTP status a refused media upgrade gets; rejects if the upgrade is accepted. */
export function upgradeRefusal(url: string, headers: Record<string, string> = {}, protocols: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('upgrade accepted')));
    ws.once('error', () => undefined);
  });
}
