import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Handles a WebSocket upgrade for one path; it owns the socket from then on. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Refuses an upgrade with a plain HTTP status line, then closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** Routes upgrades by exact pathname; unknown paths get 404. The query string is ignored for routing. */
export function upgradeRouter(routes: Map<string, UpgradeHandler>): UpgradeHandler {
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    const handler = routes.get(path);
    if (!handler) {
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    handler(req, socket, head);
  };
}
