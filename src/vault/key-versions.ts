import type { Config } from '../config/index.js';
import { loadKeyring } from './keyring-source.js';
import { openStore } from './open.js';

/** One KEK version as `keys list` and the evidence report show it: dates and counts, never key material. */
export interface KeyVersionLine {
  version: number;
  createdAt: string | null;
  current: boolean;
  /** False when records are wrapped under a version the keyring does not hold: they cannot be decrypted. */
  loaded: boolean;
  records: number;
  subjectKeys: number;
  source?: string;
}

export async function listKeyVersions(config: Config): Promise<KeyVersionLine[]> {
  const loaded = loadKeyring(config, { dataDir: config.dataDir, profile: config.profile });
  const store = openStore(config);
  try {
    const counts = new Map((await store.countByKeyVersion()).map((c) => [c.keyVersion, c]));
    const versions = loaded.keyring.versions();
    const lines: KeyVersionLine[] = versions.map((v) => {
      const count = counts.get(v.version);
      return { ...v, loaded: true, records: count?.records ?? 0, subjectKeys: count?.subjectKeys ?? 0, source: loaded.source };
    });
    for (const count of counts.values()) {
      if (versions.some((v) => v.version === count.keyVersion)) continue;
      lines.push({ version: count.keyVersion, createdAt: null, current: false, loaded: false, records: count.records, subjectKeys: count.subjectKeys });
    }
    return lines;
  } finally {
    await store.close();
    loaded.close();
  }
}
