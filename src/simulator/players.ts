import { usageError } from '../cli/args.js';
import type { PlayerKit } from './player.js';
import { signalWireKit } from './signalwire/player.js';
import { twilioKit } from './twilio/player.js';

/** One player per provider, by the name `--provider` takes. */
const KITS: readonly PlayerKit[] = [twilioKit, signalWireKit];

export const PLAYER_NAMES: readonly string[] = KITS.map((kit) => kit.name);

/** The player kit `--provider NAME` names (default twilio); an unknown name is a usage error listing the known ones. */
export function playerKit(name: string | undefined): PlayerKit {
  const kit = KITS.find((k) => k.name === (name ?? 'twilio'));
  if (!kit) throw usageError(`unknown --provider ${name}; one of: ${PLAYER_NAMES.join(', ')}`);
  return kit;
}
