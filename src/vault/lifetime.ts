/** The last millisecond of a card's expiry month (UTC): a card token's default end of life. */
export function endOfExpiryMonth(year: number, month: number): number {
  return Date.UTC(year, month, 1) - 1;
}

/** When a record should be forgotten: the card's expiry month if it has one, else the default TTL. */
export function recordExpiry(now: number, expiry: [number, number] | null, defaultTtlMs: number): number {
  return expiry ? endOfExpiryMonth(expiry[0], expiry[1]) : now + defaultTtlMs;
}
