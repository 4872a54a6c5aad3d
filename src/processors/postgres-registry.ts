import type { JWK } from 'jose';
import type { DatabasePool } from '../db/pool.js';
import type { EnrolledProcessor, ProcessorRegistry } from './registry.js';

const COLUMNS = 'name, keys, cert_fingerprint256 AS "certFingerprint256", cert_serial AS "certSerial", enrolled_at AS "enrolledAt", revoked_at AS "revokedAt"';

type Row = Omit<EnrolledProcessor, 'keys'> & { keys: JWK[] };

/**
 * Cluster mode's processor registry (table `processors`, migration 2): one for every node, read on
 * every lookup, so an enrolment or a revocation on any node (or by the CLI) holds on the next request.
 */
export class PostgresProcessorRegistry implements ProcessorRegistry {
  constructor(private readonly pool: DatabasePool) {}

  async list(): Promise<EnrolledProcessor[]> {
    return (await this.pool.query<Row>(`SELECT ${COLUMNS} FROM processors ORDER BY name`)).rows;
  }

  async active(name: string): Promise<EnrolledProcessor | undefined> {
    return (await this.pool.query<Row>(`SELECT ${COLUMNS} FROM processors WHERE name = $1 AND revoked_at IS NULL`, [name])).rows[0];
  }

  async activeByFingerprint(fingerprint256: string): Promise<EnrolledProcessor | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM processors WHERE upper(cert_fingerprint256) = upper($1) AND revoked_at IS NULL`, [fingerprint256]);
    return rows[0];
  }

  async enroll(entry: EnrolledProcessor): Promise<void> {
    await this.pool.query(
      `INSERT INTO processors (name, keys, cert_fingerprint256, cert_serial, enrolled_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE SET keys = EXCLUDED.keys, cert_fingerprint256 = EXCLUDED.cert_fingerprint256,
         cert_serial = EXCLUDED.cert_serial, enrolled_at = EXCLUDED.enrolled_at, revoked_at = EXCLUDED.revoked_at`,
      [entry.name, JSON.stringify(entry.keys), entry.certFingerprint256, entry.certSerial, entry.enrolledAt, entry.revokedAt],
    );
  }

  async revoke(name: string, at = new Date()): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE processors SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL', [name, at.toISOString()]);
    return (rowCount ?? 0) > 0;
  }
}
