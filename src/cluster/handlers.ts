import { EventEmitter } from 'node:events';
import { isToneguardError, ToneguardError } from '../errors.js';

/** A handler's failure as it crosses the bus: a ToneguardError's code, status and message, never anything else. */
export interface WireError {
  code: string;
  message: string;
  status: number;
}

export function toWireError(err: unknown): WireError {
  if (isToneguardError(err)) return { code: err.code, message: err.message, status: err.status };
  return { code: 'internal_error', message: 'internal error', status: 500 };
}

export function fromWireError(wire: WireError): ToneguardError {
  return new ToneguardError(wire.code, wire.message, wire.status);
}

export function nodeUnreachable(nodeId: string, command: string): ToneguardError {
  return new ToneguardError('node_unreachable', `node ${nodeId} did not answer ${command}`, 503);
}

/** The commands this node serves, shared by the memory and Redis buses. */
export class CommandHandlers {
  private readonly handlers = new Map<string, (payload: unknown) => Promise<unknown>>();

  handle(command: string, handler: (payload: unknown) => Promise<unknown>): void {
    if (this.handlers.has(command)) throw new ToneguardError('bus_handler_exists', `a handler for ${command} is already registered`, 500);
    this.handlers.set(command, handler);
  }

  /** Runs the handler; an unknown command is `unknown_command` (501), so a requester on a newer version fails cleanly. */
  async run(command: string, payload: unknown): Promise<unknown> {
    const handler = this.handlers.get(command);
    if (!handler) throw new ToneguardError('unknown_command', `this node does not serve ${command}`, 501);
    return handler(payload);
  }
}

/** Listeners of broadcast topics on this node; a throwing listener does not stop the others. */
export class TopicListeners {
  private readonly events = new EventEmitter();

  constructor(private readonly onListenerError: (topic: string, err: unknown) => void) {
    this.events.setMaxListeners(0);
  }

  add(topic: string, listener: (message: unknown) => void): () => void {
    this.events.on(topic, listener);
    return () => this.events.off(topic, listener);
  }

  count(topic: string): number {
    return this.events.listenerCount(topic);
  }

  deliver(topic: string, message: unknown): void {
    for (const listener of this.events.listeners(topic) as ((message: unknown) => void)[]) {
      try {
        listener(message);
      } catch (err) {
        this.onListenerError(topic, err);
      }
    }
  }
}
