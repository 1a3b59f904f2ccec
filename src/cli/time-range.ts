import { parseWhen, WHEN_HINT } from '../time/when.js';
import { UsageError } from './errors.js';

/** `--since 24h|7d|DATE` / `--until …`: a duration back from now, or a local date/time. */
export function parseSince(text: string, flag: string, now: number): number {
  const t = parseWhen(text, now);
  if (t === null) throw new UsageError(`${flag} "${text}": ${WHEN_HINT}`);
  return t;
}
