import { parseDuration } from '../time/duration.js';
import { parseLocalTime } from '../time/local-time.js';
import { UsageError } from './errors.js';

/** `--since 24h|7d|DATE` / `--until …`: a duration back from now, or a local date/time. */
export function parseSince(text: string, flag: string, now: number): number {
  try {
    return now - parseDuration(text);
  } catch {
    try {
      return parseLocalTime(text, now);
    } catch {
      throw new UsageError(
        `${flag} "${text}": use a duration back from now (24h, 7d) or a date/time (2026-11-20, 2026-11-20T08:30)`,
      );
    }
  }
}
