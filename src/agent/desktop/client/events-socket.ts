import { EVENTS_CLOSE, EVENTS_PATH, EVENTS_SUBPROTOCOL, type AgentEvent } from '../../contract.js';

/** Reconnect backoff bounds for the events socket (ms). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;
/** A socket silent for this long (over two missed heartbeats) is presumed dead and replaced. */
const SILENCE_MS = 40_000;
/** The close code the page uses to replace a silent socket. */
const CLOSE_SILENT = 4000;

export interface EventsSocketHandlers {
  event(event: AgentEvent): void;
  /** The socket opened, closed or is retrying: re-render the connection state. */
  changed(): void;
  /** The server closed the socket as unauthenticated or forbidden; no retry follows. */
  refused(reason: 'unauthenticated' | 'forbidden'): void;
}

/**
 * `WS /v1/events` from the page: the token in the first message (so it is in no URL and no
 * handshake header), reconnection with backoff, and `open` only once the server said `ready`.
 */
export class EventsSocket {
  /** True between the server's `ready` and the socket's close. */
  open = false;
  private socket: WebSocket | null = null;
  private lastEventAt = 0;
  private retries = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly handlers: EventsSocketHandlers) {}

  connect(token: string): void {
    this.drop();
    const url = new URL(EVENTS_PATH, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, [EVENTS_SUBPROTOCOL]);
    this.socket = socket;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
    socket.addEventListener('message', (message) => {
      if (this.socket !== socket) return;
      this.lastEventAt = Date.now();
      let event: AgentEvent;
      try {
        event = JSON.parse(String(message.data)) as AgentEvent;
      } catch {
        return;
      }
      if (event?.type === 'ready') {
        this.open = true;
        this.retries = 0;
      }
      this.handlers.event(event);
    });
    socket.addEventListener('close', (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.open = false;
      this.handlers.changed();
      if (close.code === EVENTS_CLOSE.unauthenticated) return this.handlers.refused('unauthenticated');
      if (close.code === EVENTS_CLOSE.forbidden) return this.handlers.refused('forbidden');
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.retries++);
      this.reconnectTimer = setTimeout(() => this.connect(token), delay);
    });
  }

  /** Replaces a socket that has been silent past two heartbeats. */
  checkSilence(): void {
    if (this.open && Date.now() - this.lastEventAt > SILENCE_MS) this.socket?.close(CLOSE_SILENT);
  }

  /** Closes the socket, if any, so that its late events and its close are ignored. */
  drop(): void {
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = null;
    this.open = false;
    socket?.close(1000);
  }
}
