import { parseDuration } from './duration.js';
import { parseLocalTime } from './local-time.js';

/** What a "since"/"until" value may be, for messages. */
export const WHEN_HINT = 'use a duration back from now (24h, 7d) or a date/time (2026-11-20, 2026-11-20T08:30)';

/** A time as people type it for a period (CLI flags, console filters): a duration back from now, or a local date/time; null when neither. */
export function parseWhen(text: string, now: number): number | null {
  try {
    return now - parseDuration(text);
  } catch {
    try {
      return parseLocalTime(text, now);
    } catch {
      return null;
    }
  }
}
