/**
 * Runs a test body with this process in a timezone, as the CLI and the daemon are after loading a
 * config (useTimezone), and puts the previous TZ back afterwards, so a host in UTC still shows what
 * a school in London would read.
 */
import { useTimezone } from '../../src/time/zone.js';

export async function inTimezone<T>(tz: string, fn: () => T | Promise<T>): Promise<T> {
  const before = process.env.TZ;
  try {
    useTimezone(tz);
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}
