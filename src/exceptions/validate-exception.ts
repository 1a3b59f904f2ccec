import type { LoadedConfig } from '../config/load.js';
import { parseCidr } from '../net/cidr.js';
import { categoryInfos } from '../policy/categories.js';
import { normaliseDomain } from '../dns/name.js';
import { formatDuration, parseDuration } from '../time/duration.js';
import { formatShort, parseLocalTime } from '../time/local-time.js';
import type { NewException } from '../storage/exceptions.js';
import type { LockedNames } from './locked-names.js';

/** What someone asked for (CLI flags, the console's form, or a permission request's lesson), before validation. */
export interface ExceptionRequest {
  group?: string;
  client?: string;
  categories: string[];
  domains: string[];
  for?: string;
  until?: string;
  /**
   * Or the window as instants, worked out beforehand (a permission request's lesson or times): it
   * may start later, and it is held to the same limits from its start.
   */
  window?: { startsAt: number; expiresAt: number };
  reason?: string;
  approvedBy?: string;
}

/** Every problem with a request, each naming its flag; nothing is stored when there are any. */
export class ExceptionRequestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ExceptionRequestError';
  }
}

/**
 * Checks an exception request against the config and the clock and returns what to store.
 * Refuses: no target or two, unknown group or category, a locked category (or a circumvention rule),
 * a bad client network or domain, a domain that a locked category or circumvention rule lists (`locked`:
 * such an exception would do nothing), no or two expiry forms, an expiry in the past or beyond
 * `exceptions.max_duration`, and a missing reason or approver (the policy requires permission first).
 */
export function validateException(req: ExceptionRequest, loaded: LoadedConfig, now: number, locked: LockedNames): NewException {
  const problems: string[] = [];
  const { config } = loaded;
  const groups = Object.keys(config.groups);
  const infos = categoryInfos(config);

  let targetKind: 'group' | 'client' = 'group';
  let target = '';
  if ((req.group === undefined) === (req.client === undefined)) {
    problems.push('give exactly one of --group G or --client IP|CIDR');
  } else if (req.group !== undefined) {
    target = req.group;
    if (!config.groups[req.group]) problems.push(`--group "${req.group}": no such group (groups: ${groups.join(', ')})`);
  } else {
    targetKind = 'client';
    try {
      const c = parseCidr(req.client!);
      target = `${req.client!.split('/')[0]}/${c.prefix}`;
    } catch (e) {
      problems.push(`--client: ${(e as Error).message}`);
    }
  }

  if (req.categories.length === 0 && req.domains.length === 0) problems.push('give at least one --category C or --domain D');
  const opened = infos.filter((c) => !c.locked).map((c) => c.name);
  for (const c of req.categories) {
    const info = infos.find((i) => i.name === c);
    if (!info) problems.push(`--category "${c}": no such category (categories: ${opened.join(', ')})`);
    else if (info.signal) problems.push(`--category "${c}" is a circumvention rule: no exception may open it`);
    else if (info.locked) problems.push(`--category "${c}" is locked in the config: no exception may open it`);
  }
  const domains: string[] = [];
  for (const d of req.domains) {
    const n = normaliseDomain(d);
    if (typeof n !== 'string') {
      problems.push(`--domain "${d}": ${n.error}`);
      continue;
    }
    domains.push(n);
    const m = locked.match(n);
    if (m) {
      const rule = m.circumvention ? `the circumvention rule ${m.category}` : `the locked category ${m.category}`;
      problems.push(`--domain "${d}" is blocked by ${rule} (entry "${m.entry}", ${m.source}): no exception may open it`);
    }
  }

  let expiresAt = NaN;
  let startsAt = now;
  const max = parseDuration(config.exceptions.max_duration);
  const forms = [req.for, req.until, req.window].filter((f) => f !== undefined).length;
  if (forms !== 1) {
    problems.push('give exactly one of --for DURATION (e.g. 50m) or --until TIME (e.g. 15:30 or 2026-12-01T15:30)');
  } else if (req.for !== undefined) {
    try {
      const ms = parseDuration(req.for);
      if (ms > max) problems.push(`--for ${req.for} is longer than exceptions.max_duration (${config.exceptions.max_duration})`);
      expiresAt = now + ms;
    } catch (e) {
      problems.push(`--for: ${(e as Error).message}`);
    }
  } else {
    try {
      if (req.window) {
        startsAt = Math.max(now, req.window.startsAt);
        expiresAt = req.window.expiresAt;
      } else expiresAt = parseLocalTime(req.until!, now);
      const text = req.until ?? formatShort(expiresAt);
      if (expiresAt <= now) problems.push(`--until ${text} is in the past (it is now ${formatShort(now)})`);
      else if (expiresAt <= startsAt) problems.push(`--until ${text} is not after the start (${formatShort(startsAt)})`);
      else if (expiresAt - startsAt > max) {
        problems.push(
          `--until ${text} is ${formatDuration(expiresAt - startsAt)} ${startsAt === now ? 'away' : 'after the start'}, more than exceptions.max_duration (${config.exceptions.max_duration})`,
        );
      }
    } catch (e) {
      problems.push(`--until: ${(e as Error).message}`);
    }
  }

  const reason = req.reason?.trim() ?? '';
  const approvedBy = req.approvedBy?.trim() ?? '';
  if (!reason) problems.push('--reason is required: say what the exception is for');
  if (!approvedBy) problems.push('--approved-by is required: the policy needs the Headteacher’s permission first');

  if (problems.length > 0) throw new ExceptionRequestError(problems);
  return {
    targetKind,
    target,
    categories: [...new Set(req.categories)],
    domains: [...new Set(domains)],
    startsAt,
    expiresAt,
    reason,
    approvedBy,
  };
}
