export type * from './types.js';
export { createRtpRelay, type RtpRelayOptions, type SipRtpRelay, type SipRelayCall, type RelayCallCounters } from './relay.js';
export { relayMedia, type RelayMedia } from './media-legs.js';
export { PortPool, PortsExhaustedError, type PortRange } from './port-pool.js';
