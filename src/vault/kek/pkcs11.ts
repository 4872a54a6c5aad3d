import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Pkcs11Js from 'pkcs11js';
import type { Config } from '../../config/index.js';
import { ToneguardError } from '../../errors.js';
import { decryptFailed } from '../aead.js';
import type { KekEntry, KeyWrapper } from '../keyring.js';

type Pkcs11Module = typeof Pkcs11Js;
type Handle = Buffer;

const IV_BYTES = 12;
const TAG_BITS = 128;
const TAG_BYTES = TAG_BITS / 8;
const FIND_BATCH = 64;

/** The PKCS#11 settings, checked: where the token is and how to log in. */
export interface Pkcs11Settings {
  module: string;
  tokenLabel: string;
  pin: string;
  keyLabel: string;
}

/** The pkcs11 provider's settings from configuration; names what is missing, never the PIN. */
export function pkcs11Settings(config: Config): Pkcs11Settings {
  const p = config.vault.kek.pkcs11;
  if (!p.module) throw new ToneguardError('config_missing_secret', 'vault.kek.pkcs11.module (TONEGUARD_PKCS11_MODULE) is missing', 500);
  if (!existsSync(p.module)) throw new ToneguardError('config_invalid', `vault.kek.pkcs11.module names a library that does not exist: ${p.module}`, 500);
  if (!p.tokenLabel) throw new ToneguardError('config_missing_secret', 'vault.kek.pkcs11.tokenLabel (TONEGUARD_PKCS11_TOKEN_LABEL) is missing', 500);
  return { module: p.module, tokenLabel: p.tokenLabel, pin: pkcs11Pin(config), keyLabel: p.keyLabel };
}

function pkcs11Pin(config: Config): string {
  const { pin, pinFile } = config.vault.kek.pkcs11;
  if (pin && pinFile) throw new ToneguardError('config_invalid', 'Set vault.kek.pkcs11.pin or pinFile (TONEGUARD_PKCS11_PIN / _PIN_FILE), not both', 500);
  if (pin) return pin;
  if (!pinFile) throw new ToneguardError('config_missing_secret', 'vault.kek.pkcs11.pin or pinFile (TONEGUARD_PKCS11_PIN / TONEGUARD_PKCS11_PIN_FILE) is missing', 500);
  if (!existsSync(pinFile)) throw new ToneguardError('config_missing_secret', `vault.kek.pkcs11.pinFile names a file that does not exist: ${pinFile}`, 500);
  const fromFile = readFileSync(pinFile, 'utf8').replace(/\r?\n$/, '');
  if (!fromFile) throw new ToneguardError('config_missing_secret', `vault.kek.pkcs11.pinFile ${pinFile} is empty`, 500);
  return fromFile;
}

/** The binding is native: loaded only when the pkcs11 provider is used. */
const loadBinding = (): Pkcs11Module => createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;

/**
 * A vendor library is initialised once per process (C_Initialize / C_Finalize are process-wide),
 * however many keyrings use it: the CLI and tests open several.
 */
interface LoadedLibrary {
  binding: Pkcs11Module;
  pkcs11: Pkcs11Js.PKCS11;
  users: number;
}
const libraries = new Map<string, LoadedLibrary>();

function acquireLibrary(path: string): LoadedLibrary {
  let library = libraries.get(path);
  if (!library) {
    const binding = loadBinding();
    const pkcs11 = new binding.PKCS11();
    pkcs11.load(path);
    try {
      pkcs11.C_Initialize();
    } catch (err) {
      pkcs11.close();
      throw err;
    }
    library = { binding, pkcs11, users: 0 };
    libraries.set(path, library);
  }
  library.users += 1;
  return library;
}

function releaseLibrary(path: string): void {
  const library = libraries.get(path);
  if (!library || --library.users > 0) return;
  libraries.delete(path);
  library.pkcs11.C_Finalize();
  library.pkcs11.close();
}

function hsmError(what: string, err: unknown): ToneguardError {
  const name = err instanceof Error ? err.message : String(err);
  return new ToneguardError('hsm_unavailable', `The HSM refused to ${what}: ${name}`, 503, { cause: err });
}

export const versionLabel = (keyLabel: string, version: number): string => `${keyLabel}:v${version}`;

function parseVersion(keyLabel: string, label: string): number | null {
  if (!label.startsWith(`${keyLabel}:v`)) return null;
  const rest = label.slice(keyLabel.length + 2);
  return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) : null;
}

/**
 * Key-encryption keys held in a PKCS#11 token: AES-256 keys generated inside it, sensitive and
 * not extractable, labelled `{keyLabel}:v{N}`. Data keys are sealed and opened with CKM_AES_GCM
 * inside the token (iv ‖ ciphertext ‖ tag, the same layout as the software keyring), so a KEK
 * never exists in this process. Calls are synchronous: one session, used one call at a time.
 */
export class Pkcs11Keks {
  private closed = false;

  private constructor(
    private readonly settings: Pkcs11Settings,
    private readonly library: LoadedLibrary,
    private readonly session: Handle,
  ) {}

  /** Opens a logged-in session on the token labelled `settings.tokenLabel`. */
  static open(settings: Pkcs11Settings): Pkcs11Keks {
    let library: LoadedLibrary;
    try {
      library = acquireLibrary(settings.module);
    } catch (err) {
      throw hsmError(`load the PKCS#11 library ${settings.module}`, err);
    }
    try {
      const { pkcs11, binding } = library;
      const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === settings.tokenLabel);
      if (!slot) throw new ToneguardError('config_invalid', `No PKCS#11 token is labelled "${settings.tokenLabel}" in ${settings.module}`, 500);
      const session = pkcs11.C_OpenSession(slot, binding.CKF_SERIAL_SESSION | binding.CKF_RW_SESSION);
      try {
        pkcs11.C_Login(session, binding.CKU_USER, settings.pin);
      } catch (err) {
        // Login is per application, not per session: another keyring in this process already did it.
        if ((err as Pkcs11Js.Pkcs11Error).code !== binding.CKR_USER_ALREADY_LOGGED_IN) {
          pkcs11.C_CloseSession(session);
          throw err;
        }
      }
      return new Pkcs11Keks(settings, library, session);
    } catch (err) {
      releaseLibrary(settings.module);
      if (err instanceof ToneguardError) throw err;
      throw hsmError(`open a session on token "${settings.tokenLabel}"`, err);
    }
  }

  /** Every KEK version in the token, as keyring entries whose wrapping happens in the token. */
  read(): KekEntry[] {
    const { pkcs11, binding } = this.library;
    try {
      const handles = this.findAesKeys();
      const entries: KekEntry[] = [];
      for (const handle of handles) {
        const [label] = pkcs11.C_GetAttributeValue(this.session, handle, [{ type: binding.CKA_LABEL }]);
        const version = parseVersion(this.settings.keyLabel, label.value.toString('utf8'));
        // The token keeps no creation time that every vendor can read back (CKA_START_DATE is optional).
        if (version !== null) entries.push({ version, createdAt: null, wrapper: this.wrapper(handle) });
      }
      return entries;
    } catch (err) {
      throw hsmError('list its keys', err);
    }
  }

  /** Generates KEK `version` inside the token (AES-256, sensitive, never extractable, for encrypt/decrypt only); returns its label. */
  generate(version: number): string {
    const { pkcs11, binding } = this.library;
    const label = versionLabel(this.settings.keyLabel, version);
    if (this.read().some((entry) => entry.version === version)) {
      throw new ToneguardError('keys_version_exists', `The token already holds KEK ${label}`, 409);
    }
    try {
      pkcs11.C_GenerateKey(this.session, { mechanism: binding.CKM_AES_KEY_GEN }, [
        { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
        { type: binding.CKA_KEY_TYPE, value: binding.CKK_AES },
        { type: binding.CKA_VALUE_LEN, value: 32 },
        { type: binding.CKA_TOKEN, value: true },
        { type: binding.CKA_PRIVATE, value: true },
        { type: binding.CKA_SENSITIVE, value: true },
        { type: binding.CKA_EXTRACTABLE, value: false },
        { type: binding.CKA_MODIFIABLE, value: false },
        { type: binding.CKA_ENCRYPT, value: true },
        { type: binding.CKA_DECRYPT, value: true },
        { type: binding.CKA_WRAP, value: false },
        { type: binding.CKA_UNWRAP, value: false },
        { type: binding.CKA_SIGN, value: false },
        { type: binding.CKA_VERIFY, value: false },
        { type: binding.CKA_DERIVE, value: false },
        { type: binding.CKA_LABEL, value: label },
        { type: binding.CKA_ID, value: Buffer.from(label, 'utf8') },
      ]);
      return label;
    } catch (err) {
      throw hsmError(`generate key ${label}`, err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.library.pkcs11.C_CloseSession(this.session);
    } finally {
      releaseLibrary(this.settings.module);
    }
  }

  private findAesKeys(): Handle[] {
    const { pkcs11, binding } = this.library;
    pkcs11.C_FindObjectsInit(this.session, [
      { type: binding.CKA_CLASS, value: binding.CKO_SECRET_KEY },
      { type: binding.CKA_KEY_TYPE, value: binding.CKK_AES },
    ]);
    try {
      const handles: Handle[] = [];
      for (let batch = pkcs11.C_FindObjects(this.session, FIND_BATCH); batch.length > 0; batch = pkcs11.C_FindObjects(this.session, FIND_BATCH)) {
        handles.push(...batch);
      }
      return handles;
    } finally {
      pkcs11.C_FindObjectsFinal(this.session);
    }
  }

  private gcm(iv: Buffer, aad: string): Pkcs11Js.Mechanism {
    const { binding } = this.library;
    const parameter: Pkcs11Js.AesGCM = { type: binding.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(aad, 'utf8'), ivBits: IV_BYTES * 8, tagBits: TAG_BITS };
    return { mechanism: binding.CKM_AES_GCM, parameter };
  }

  private wrapper(handle: Handle): KeyWrapper {
    const { pkcs11, binding } = this.library;
    return {
      wrap: (key, aad) => {
        const iv = randomBytes(IV_BYTES);
        try {
          pkcs11.C_EncryptInit(this.session, this.gcm(iv, aad), handle);
          return Buffer.concat([iv, pkcs11.C_Encrypt(this.session, key, Buffer.alloc(key.length + TAG_BYTES))]);
        } catch (err) {
          throw hsmError('wrap a data key', err);
        }
      },
      unwrap: (sealed, aad) => {
        if (sealed.length < IV_BYTES + TAG_BYTES) throw decryptFailed();
        try {
          pkcs11.C_DecryptInit(this.session, this.gcm(sealed.subarray(0, IV_BYTES), aad), handle);
        } catch (err) {
          throw hsmError('unwrap a data key', err);
        }
        try {
          return Buffer.from(pkcs11.C_Decrypt(this.session, sealed.subarray(IV_BYTES), Buffer.alloc(sealed.length - IV_BYTES)));
        } catch (err) {
          // A failed tag check is CKR_ENCRYPTED_DATA_INVALID in the standard, CKR_GENERAL_ERROR in SoftHSM2.
          const code = (err as Pkcs11Js.Pkcs11Error).code;
          if ([binding.CKR_ENCRYPTED_DATA_INVALID, binding.CKR_ENCRYPTED_DATA_LEN_RANGE, binding.CKR_GENERAL_ERROR].includes(code)) throw decryptFailed(err);
          throw hsmError('unwrap a data key', err);
        }
      },
    };
  }
}
