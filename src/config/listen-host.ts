import type { Config } from './schema.js';

/**
 * The address the service listens on. `host` when set; otherwise loopback in development, where
 * the development token issuer would mint any role for whoever reaches the port, and every
 * interface in production (containers, load balancers).
 */
export function listenHost(config: Pick<Config, 'host' | 'profile'>): string {
  return config.host ?? (config.profile === 'development' ? '127.0.0.1' : '0.0.0.0');
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
