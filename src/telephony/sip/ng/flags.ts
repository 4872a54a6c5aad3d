import type { NgDict, NgValue } from './document.js';

/**
 * Keys and flags as rtpengine accepts them: spaces, underscores and hyphens alike
 * (`received from`, `received-from`), and case-insensitive here since we only look up our own.
 */
export function canonicalName(name: string): string {
  return name.trim().toLowerCase().split(/[\s_]+/).join('-');
}

/** What an `rtpp-flags` string says: `key=value` words become keys, bare words flags (rtpengine's daemon-side parsing). */
export interface RtppFlags {
  keys: Map<string, NgValue>;
  flags: string[];
}

/**
 * Splits an `rtpp-flags` string into words. A value in brackets (`codec-strip=[PCMA G722]`) is a
 * list of the words inside, as rtpengine's parser reads it; an unclosed bracket runs to the end.
 */
export function parseRtppFlags(text: string): RtppFlags {
  const words = text.split(/\s+/).filter(Boolean);
  const keys = new Map<string, NgValue>();
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const eq = word.indexOf('=');
    if (eq <= 0) {
      flags.push(word);
      continue;
    }
    const key = canonicalName(word.slice(0, eq));
    let value = word.slice(eq + 1);
    if (!value.startsWith('[')) {
      keys.set(key, value);
      continue;
    }
    const items: string[] = [];
    value = value.slice(1);
    for (;;) {
      const closes = value.endsWith(']');
      const item = closes ? value.slice(0, -1) : value;
      if (item) items.push(item);
      if (closes || i + 1 >= words.length) break;
      value = words[++i];
    }
    keys.set(key, items);
  }
  return { keys, flags };
}

/** A dictionary's entries under canonical names; on a clash the first spelling wins. */
export function canonicalEntries(dict: NgDict): Map<string, NgValue> {
  const entries = new Map<string, NgValue>();
  for (const key of Object.keys(dict)) {
    const name = canonicalName(key);
    if (!entries.has(name)) entries.set(name, dict[key]);
  }
  return entries;
}
