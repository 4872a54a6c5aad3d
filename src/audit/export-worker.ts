import { parentPort, workerData } from 'node:worker_threads';
import { readAuditPage, verifyAuditTrail, type AuditExportRequest } from './export.js';

/** Worker entry of `runAuditExport`: one request in `workerData`, one answer posted back. */
const request = workerData as AuditExportRequest;
parentPort!.postMessage(
  request.op === 'verify'
    ? verifyAuditTrail(request.dir, Buffer.from(request.key))
    : readAuditPage(request.dir, { limit: request.limit, ...(request.after ? { after: request.after } : {}) }),
);
