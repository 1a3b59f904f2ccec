/** Times as the review's entries carry them (the documented JSON fields): ISO-8601 UTC text. */

/** "2026-11-24T10:45:02.123Z" for ms since the epoch. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** "2026-11-24T10:00Z" for an hour since the epoch (the access log's hour). */
export function isoHour(hour: number): string {
  return `${new Date(hour * 3_600_000).toISOString().slice(0, 13)}:00Z`;
}
