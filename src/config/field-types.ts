import { z } from 'zod';
import { parseCidr } from '../net/cidr.js';
import { parseDuration } from '../time/duration.js';
import { parseHostPort } from './host-port.js';

/** Field types shared by the config schema's files; each refinement's message names what is wrong. */

/** A network, "10.20.0.0/16" or "fd00::/8" (a bare address is a single host). */
export const cidr = z.string().superRefine((s, ctx) => {
  try {
    parseCidr(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

/** "10.0.0.1:53" or "[fd00::1]:53"; a bare address takes `defaultPort` when one is given. */
export const hostPort = (defaultPort: number | null) =>
  z.string().superRefine((s, ctx) => {
    try {
      parseHostPort(s, defaultPort);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });

/** A duration as people write it ("12h", "1h30m", "7d"), between `min` and `max` milliseconds. */
export const duration = (min: number, max: number) =>
  z.string().superRefine((s, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(s);
    } catch (e) {
      return ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
    if (ms < min || ms > max) ctx.addIssue({ code: 'custom', message: `"${s}" must be between ${fmt(min)} and ${fmt(max)}` });
  });

function fmt(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}
