/** The roles a token may claim; anything else in the role claim is ignored. */
export const ROLES = ['agent', 'supervisor', 'admin', 'processor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];
