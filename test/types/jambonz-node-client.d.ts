/** The parts of @jambonz/node-client (no published types) the tests use as an oracle. */
declare module '@jambonz/node-client' {
  type Next = () => void;
  export class WebhookResponse {
    static verifyJambonzSignature(secret: string | string[]): (req: unknown, res: unknown, next: Next) => void;
    /** Validates the verb against jambonz's verb specifications; throws on an unknown or missing property. */
    listen(payload: Record<string, unknown>): this;
    hangup(payload?: Record<string, unknown>): this;
    toJSON(): unknown[];
  }
}
