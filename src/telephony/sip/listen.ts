import { isIP } from 'node:net';

/** Where the ng control socket listens, parsed from `udp:HOST:PORT` / `udp6:[HOST]:PORT` (the modules' own spelling). */
export interface NgListen {
  type: 'udp4' | 'udp6';
  host: string;
  port: number;
}

/** Parses an ng listen address; undefined when it is not one. Hosts must be IP literals (no name lookups at start). */
export function parseNgListen(value: string): NgListen | undefined {
  const colon = value.indexOf(':');
  const scheme = value.slice(0, colon);
  if (scheme !== 'udp' && scheme !== 'udp6') return undefined;
  const rest = value.slice(colon + 1);
  const portAt = rest.lastIndexOf(':');
  if (portAt <= 0) return undefined;
  const rawHost = rest.slice(0, portAt);
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  const portText = rest.slice(portAt + 1);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) return undefined;
  const family = isIP(host);
  if (family === 0) return undefined;
  if (scheme === 'udp6' && family !== 6) return undefined;
  return { type: family === 6 ? 'udp6' : 'udp4', host, port };
}

/** Whether an address is loopback (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.split('.')[0] === '127';
  return bare === '::1';
}

/** Parses `LOW-HIGH`; undefined unless 1024 <= LOW < HIGH <= 65535. */
export function parsePortRange(value: string): { low: number; high: number } | undefined {
  const parts = value.split('-');
  if (parts.length !== 2 || !parts.every((p) => /^\d{1,5}$/.test(p))) return undefined;
  const [low, high] = parts.map(Number);
  return low >= 1024 && high <= 65535 && low < high ? { low, high } : undefined;
}
