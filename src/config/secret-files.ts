import { existsSync, realpathSync, statSync } from 'node:fs';
import { relative, resolve, isAbsolute } from 'node:path';
import type { Config } from './schema.js';

/** A setting that names a file holding a secret. */
interface SecretFile {
  setting: string;
  path: string;
}

/** Every configured file whose content is a secret (certificates are public, so not listed). */
function secretFiles(config: Config): SecretFile[] {
  const files: Array<[string, string | null]> = [
    ['vault.kekFile (TONEGUARD_KEK_FILE)', config.vault.kekFile],
    ['http.tls.keyFile (TONEGUARD_TLS_KEY_FILE)', config.http.tls.keyFile],
    ['vault.kek.pkcs11.pinFile (TONEGUARD_PKCS11_PIN_FILE)', config.vault.kek.pkcs11.pinFile],
  ];
  return files.filter((f): f is [string, string] => Boolean(f[1])).map(([setting, path]) => ({ setting, path }));
}

/** The path with symbolic links resolved as far as it exists (a Kubernetes secret is a link into `..data/`). */
function realPath(path: string): string {
  const absolute = resolve(path);
  return existsSync(absolute) ? realpathSync(absolute) : absolute;
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function problemOf(file: SecretFile, dataDir: string): string | null {
  if (!existsSync(file.path)) return `${file.setting} names a file that does not exist`;
  const stat = statSync(file.path);
  if (!stat.isFile()) return `${file.setting} is not a regular file`;
  if ((stat.mode & 0o077) !== 0) {
    return `${file.setting} is accessible to group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): make it 0600 or 0400, owned by the service user`;
  }
  const real = realPath(file.path);
  if (isInside(real, realPath(dataDir)) || isInside(resolve(file.path), resolve(dataDir))) {
    return `${file.setting} lives under the data directory (dataDir): keep secrets outside what the service writes and backs up`;
  }
  return null;
}

/** Why each secret file may not be used in production: missing, readable by others, or inside the data directory. */
export function secretFileProblems(config: Config): string[] {
  return secretFiles(config)
    .map((file) => problemOf(file, config.dataDir))
    .filter((p): p is string => p !== null);
}
