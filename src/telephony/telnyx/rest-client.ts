import Telnyx from 'telnyx';
import { ToneguardError } from '../../errors.js';
import { answerCommand, dialCommand, hangupCommand, streamingStartCommand, type CallerStreamState, type DialOptions, type StreamingStartOptions } from './commands.js';
import type { TelnyxSettings } from './settings.js';

/** The parts of Telnyx's Call Control API Toneguard uses (a stand-in server answers them in tests). */
export interface TelnyxCallControl {
  /** Answers an inbound leg; `state` comes back in the leg's later webhooks' `client_state`. */
  answer(callControlId: string, state?: CallerStreamState): Promise<void>;
  startStreaming(callControlId: string, options: StreamingStartOptions): Promise<void>;
  /** Places the agent's call; resolves to its call control id. */
  dial(options: DialOptions): Promise<string>;
  hangup(callControlId: string): Promise<void>;
}

/** A failed command names the action and the status only: Telnyx's error bodies may echo numbers. */
function apiError(action: string, err: unknown): ToneguardError {
  const answered = err instanceof Telnyx.APIError && typeof err.status === 'number' ? `answered ${err.status}` : 'got no answer';
  return new ToneguardError('telnyx_api_error', `Telnyx Call Control ${action} ${answered}`, 502);
}

/** Through the official SDK, pointed at `apiBaseUrl` (`/v2` appended, as Telnyx's API is rooted there). */
export function createTelnyxCallControl(settings: Pick<TelnyxSettings, 'apiKey' | 'apiBaseUrl'>, timeoutMs = 10_000): TelnyxCallControl {
  const client = new Telnyx({
    apiKey: settings.apiKey,
    baseURL: `${settings.apiBaseUrl.replace(/\/$/, '')}/v2`,
    timeout: timeoutMs,
    // A retried dial could ring the agent twice; the command ids make the other commands idempotent anyway.
    maxRetries: 0,
    logLevel: 'off',
  });
  const run = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw apiError(action, err);
    }
  };
  return {
    async answer(callControlId, state) {
      await run('answer', () => client.calls.actions.answer(callControlId, answerCommand(callControlId, state)));
    },
    async startStreaming(callControlId, options) {
      await run('streaming_start', () => client.calls.actions.startStreaming(callControlId, streamingStartCommand(callControlId, options)));
    },
    async dial(options) {
      const answer = await run('dial', () => client.calls.dial(dialCommand(options)));
      const id = answer.data?.call_control_id;
      if (typeof id !== 'string' || id === '') throw new ToneguardError('telnyx_api_error', 'Telnyx Call Control dial answered without a call_control_id', 502);
      return id;
    },
    async hangup(callControlId) {
      await run('hangup', () => client.calls.actions.hangup(callControlId, hangupCommand(callControlId)));
    },
  };
}
