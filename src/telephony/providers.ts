import type { Config } from '../config/index.js';
import type { ProviderContext, TelephonyProvider } from './provider.js';
import { createSignalWireProvider, signalWireConfigured } from './signalwire/index.js';
import { createTwilioProvider } from './twilio/index.js';

/** One row of the provider table: when it is on, and how it is made. */
export interface ProviderEntry {
  readonly name: string;
  /** A provider is mounted when its credentials are set (Twilio always is: its routes refuse every request until they are). */
  enabled(config: Config): boolean;
  create(ctx: ProviderContext): TelephonyProvider;
}

/** Every telephony provider Toneguard speaks; `src/telephony/index.ts` mounts the enabled ones. */
export const PROVIDERS: readonly ProviderEntry[] = [
  { name: 'twilio', enabled: () => true, create: (ctx) => createTwilioProvider(ctx) },
  { name: 'signalwire', enabled: signalWireConfigured, create: (ctx) => createSignalWireProvider(ctx) },
];

export function enabledProviders(config: Config): ProviderEntry[] {
  return PROVIDERS.filter((entry) => entry.enabled(config));
}
