/** The HTTP and WebSocket hardening other modules mount or apply. */
export { ipRateLimit, identityRateLimit } from './rate-limit.js';
export { wsServerOptions, createMessageRateLimiter, type MessageRateLimiter } from './ws.js';
export { httpsServerOptions, loadTlsMaterial, selfSignedCertificate, MODERN_CIPHERS, type TlsMaterial } from './tls.js';
export { securityHeaders, corsPolicy, bodyLimit } from './security.js';
export { accessLog } from './access-log.js';
export { ShutdownHooks, type ShutdownHook } from './shutdown.js';
export { sendError, errorHandler, notFound } from './errors.js';
export { refuseUpgrade, upgradeRouter, type UpgradeHandler } from './upgrade.js';
