import { existsSync } from 'node:fs';
import type { Config } from './schema.js';

/** Where the vault's key-encryption keys come from, checked for a production start; one line per problem. */
export function kekProblems(config: Config): string[] {
  const { keks, kekFile, kek } = config.vault;
  switch (kek.provider) {
    case null:
      return keks.length === 0 && !kekFile ? ['vault.keks or vault.kekFile (TONEGUARD_KEKS / TONEGUARD_KEK_FILE), or vault.kek.provider pkcs11, is missing'] : [];
    case 'env':
      return keks.length === 0 ? ['vault.keks (TONEGUARD_KEKS) is missing for vault.kek.provider env'] : [];
    case 'file':
      if (!kekFile) return ['vault.kekFile (TONEGUARD_KEK_FILE) is missing for vault.kek.provider file'];
      return existsSync(kekFile) ? [] : [`vault.kekFile (TONEGUARD_KEK_FILE) names a file that does not exist: ${kekFile}`];
    case 'pkcs11':
      return pkcs11Problems(config);
  }
}

function pkcs11Problems(config: Config): string[] {
  const { keks, kekFile, kek } = config.vault;
  const p = kek.pkcs11;
  const problems: string[] = [];
  if (!p.module) problems.push('vault.kek.pkcs11.module (TONEGUARD_PKCS11_MODULE) is missing');
  else if (!existsSync(p.module)) problems.push(`vault.kek.pkcs11.module (TONEGUARD_PKCS11_MODULE) names a library that does not exist: ${p.module}`);
  if (!p.tokenLabel) problems.push('vault.kek.pkcs11.tokenLabel (TONEGUARD_PKCS11_TOKEN_LABEL) is missing');
  if (p.pin && p.pinFile) problems.push('vault.kek.pkcs11.pin and pinFile (TONEGUARD_PKCS11_PIN / _PIN_FILE) are both set: set one');
  else if (!p.pin && !p.pinFile) problems.push('vault.kek.pkcs11.pin or pinFile (TONEGUARD_PKCS11_PIN / TONEGUARD_PKCS11_PIN_FILE) is missing');
  else if (p.pinFile && !existsSync(p.pinFile)) problems.push(`vault.kek.pkcs11.pinFile (TONEGUARD_PKCS11_PIN_FILE) names a file that does not exist: ${p.pinFile}`);
  // Software KEKs beside the HSM would be used by nothing, yet sit on the host: refuse the mix.
  if (keks.length > 0 || kekFile) problems.push('vault.keks / vault.kekFile are set although vault.kek.provider is pkcs11: remove them');
  return problems;
}
