export { createAgentRouter } from './routes.js';
export { createTokenVerifier, authenticate, requireRole, principalOf, actorOf, ROLES, type Role, type Principal, type TokenVerifier } from './auth.js';
export { mintDevToken, devIssuerEnabled } from './dev-issuer.js';
export { eventsEndpoint, EVENTS_PATH, EVENTS_SUBPROTOCOL, EVENTS_CLOSE } from './events.js';
export type { AgentEvent } from './events-hub.js';
