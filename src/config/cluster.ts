import { existsSync } from 'node:fs';
import { kekProblems } from './kek-problems.js';
import type { Config } from './schema.js';

/** Cluster mode: Redis and PostgreSQL both configured (the schema refuses one without the other). */
export function isClusterMode(config: Pick<Config, 'cluster'>): boolean {
  return config.cluster.redisUrl !== null && config.cluster.databaseUrl !== null;
}

/**
 * What stops a cluster node from starting, one line each, naming the setting and its variable.
 * A cluster node never generates keys of its own: a key only one node holds would make another
 * node's tokens, audit records or signatures unreadable, so every shared key must be given.
 */
export function clusterProblems(config: Config): string[] {
  if (!isClusterMode(config)) return [];
  const { cluster } = config;
  const problems: string[] = [];
  if (!cluster.nodeId) problems.push('cluster.nodeId (TONEGUARD_NODE_ID) is missing');
  if (!cluster.nodeUrl) problems.push('cluster.nodeUrl (TONEGUARD_NODE_URL) is missing');
  if (!cluster.signingKeyFile) problems.push('cluster.signingKeyFile (TONEGUARD_SIGNING_KEY_FILE) is missing');
  else if (!existsSync(cluster.signingKeyFile)) problems.push(`cluster.signingKeyFile (TONEGUARD_SIGNING_KEY_FILE) names a file that does not exist: ${cluster.signingKeyFile}`);
  problems.push(...kekProblems(config));
  if (!config.vault.fingerprintKey) problems.push('vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY) is missing');
  if (!config.audit.hmacKey) problems.push('audit.hmacKey (TONEGUARD_AUDIT_HMAC_KEY) is missing');
  return problems;
}
