import type { CallPlacement } from './ports.js';
import type { RedisConnections } from './redis.js';

/** A pin outlives any call: it only has to expire eventually, so that Redis does not fill with old calls. */
export const PLACEMENT_TTL_MS = 24 * 60 * 60_000;

/**
 * Compare-and-set in one script: pins KEYS[1] to ARGV[2] if it holds ARGV[1] ('' = not pinned) or
 * nothing, and answers the pin afterwards.
 */
const MOVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return ARGV[2]
end
return current
`;

/** Where each call's media is pinned: a key `placement:{callId}` holding the node id. */
export class RedisCallPlacement implements CallPlacement {
  constructor(private readonly redis: RedisConnections) {}

  async nodeOf(callId: string): Promise<string | undefined> {
    return (await this.redis.command.get(this.key(callId))) ?? undefined;
  }

  async move(callId: string, expected: string | undefined, to: string): Promise<string> {
    return (await this.redis.command.eval(MOVE_SCRIPT, 1, this.key(callId), expected ?? '', to, PLACEMENT_TTL_MS)) as string;
  }

  private key(callId: string): string {
    return this.redis.name(`placement:${callId}`);
  }
}
