import { loadConfig } from '../config/index.js';
import { mintDevToken } from '../agent/dev-issuer.js';
import { ROLES } from '../agent/auth.js';
import { stringFlag, usageError, type ParsedArgs } from './args.js';

/** `toneguard dev token --sub ID --role ROLE`: prints a development JWT signed by the local issuer. */
export async function devTokenCommand(args: ParsedArgs): Promise<number> {
  const sub = stringFlag(args, 'sub', true);
  const role = stringFlag(args, 'role', true);
  if (!(ROLES as readonly string[]).includes(role)) throw usageError(`--role must be one of ${ROLES.join(', ')}`);
  process.stdout.write(`${await mintDevToken(loadConfig(), { sub, role })}\n`);
  return 0;
}
