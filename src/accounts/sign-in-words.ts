import { createHmac, randomBytes } from 'node:crypto';
import { count } from '../text/plural.js';

/** Key for the audit's record of names that are not accounts (new each start). */
const NAME_KEY = randomBytes(32);

/**
 * How a name typed at sign-in (the console's form, the CLI's `--account`) is recorded: an account's
 * name as it is, anything else (often a password typed into the wrong field) as a short keyed hash
 * and its length, e.g. `unknown #3fa9c1 (14 chars)`: repeated tries of one name stay recognisable
 * (within one process), the text does not.
 */
export function auditedName(typed: string, known: boolean): string {
  if (known || typed === '') return typed;
  const hash = createHmac('sha256', NAME_KEY).update(typed).digest('hex').slice(0, 6);
  return `unknown #${hash} (${count([...typed].length, 'char')})`;
}

/** A throttle's wait as people read it: "3 seconds", "15 minutes". */
export function waitText(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`;
}
