/**
 * Readiness of a cluster node's shared services: Redis (shared state) and PostgreSQL (the vault,
 * the audit chain). `/readyz` asks it, so that a load balancer stops sending a node traffic it
 * cannot serve. Each check answers quickly: a dependency that does not answer within its
 * timeout counts as unreachable, and one answer is reused for `cacheMs` so that a probe flood
 * never becomes a flood of pings.
 */

/** The services a cluster node depends on, by the names `/readyz` reports (never a URL or credential). */
export type Dependency = 'redis' | 'postgres';

export interface HealthReport {
  /** The dependencies that did not answer; empty when the node is ready. */
  unreachable: Dependency[];
}

export interface HealthPort {
  check(): Promise<HealthReport>;
}

/** Answers whether one dependency is reachable now; may throw or hang (both count as unreachable). */
export type ReachabilityProbe = () => boolean | Promise<boolean>;

export interface ClusterHealthOptions {
  probes: Partial<Record<Dependency, ReachabilityProbe>>;
  /** How long a probe may take before its dependency counts as unreachable. */
  timeoutMs: number;
  /** How long one report is reused. */
  cacheMs: number;
  now?: () => number;
}

async function reachable(probe: ReachabilityProbe, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), timedOut]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function createClusterHealth(options: ClusterHealthOptions): HealthPort {
  const now = options.now ?? Date.now;
  const entries = Object.entries(options.probes) as [Dependency, ReachabilityProbe][];
  let cached: { at: number; report: Promise<HealthReport> } | undefined;
  const measure = async (): Promise<HealthReport> => {
    const results = await Promise.all(entries.map(async ([name, probe]) => ((await reachable(probe, options.timeoutMs)) ? undefined : name)));
    return { unreachable: results.filter((name): name is Dependency => name !== undefined) };
  };
  return {
    check() {
      const at = now();
      if (!cached || at - cached.at >= options.cacheMs) cached = { at, report: measure() };
      return cached.report;
    },
  };
}

/** PostgreSQL answers a trivial query (on a pool kept for the probe, so that it measures the database, not the node's load). */
export function postgresProbe(pool: { query(sql: string): Promise<unknown> }): ReachabilityProbe {
  return async () => {
    await pool.query('SELECT 1');
    return true;
  };
}
