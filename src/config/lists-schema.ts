import { z } from 'zod';
import { parseDuration } from '../time/duration.js';

/**
 * Config of categories and their list subscriptions. Part of the one config schema (see schema.ts).
 * A category's `lists` mixes files and `https://` URLs; a URL is fetched and kept current by the
 * daemon (src/lists/), every `refresh`, with the settings of the `subscriptions` section.
 */

/** Shortest refresh accepted: a list server is someone else's, and every school asks it. */
const MIN_REFRESH_MS = 60_000;

/** True for a list source written as a URL rather than a file path. */
export function isListUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

const listSource = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    if (!isListUrl(s)) return;
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a URL` });
      return;
    }
    if (url.protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        message: `"${s}": list URLs must be https:// (a list fetched in clear text could be changed on the way)`,
      });
    }
  });

const refresh = z
  .string()
  .superRefine((s, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return;
    }
    if (ms < MIN_REFRESH_MS) ctx.addIssue({ code: 'custom', message: `"${s}" is too often: refresh at most once a minute` });
  })
  .default('24h');

/**
 * A category: its list files and URLs, either as a plain list or `{ lists: [...], locked: true,
 * refresh: 6h }`. A locked category (e.g. illegal content) can be opened by no exception, schedule or
 * group rule. `refresh` is how often its URLs are fetched.
 */
export const categorySchema = z.preprocess(
  (v) => (Array.isArray(v) ? { lists: v } : v),
  z.strictObject({
    lists: z.array(listSource).min(1),
    locked: z.boolean().default(false),
    refresh,
  }),
);

/** How subscribed lists are fetched, and what a new copy must pass before it replaces the last good one. */
export const subscriptionsSchema = z
  .strictObject({
    /** Largest list accepted (after decompression), in MB; a bigger download is abandoned. */
    max_list_mb: z.number().min(1).max(1024).default(50),
    /** Longest one fetch may take, connection to last byte. */
    timeout_ms: z.number().int().min(1000).max(600_000).default(30_000),
    /**
     * A new copy with more than this fraction fewer entries than the last good one is held back and
     * logged (a truncated download must not unblock a category) until `webfilter lists update --force`.
     */
    max_shrink: z.number().min(0).max(1).default(0.5),
    /** A PEM file of extra CA certificates (e.g. a local authority's private CA), trusted beside the public roots. */
    tls_ca: z.string().min(1).optional(),
  })
  .prefault({});
