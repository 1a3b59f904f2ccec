import type { SignalGroup } from '../storage/review.js';
import { formatShort } from '../time/local-time.js';

/**
 * How the report shows a device's signals: one line per kind and local day, with every count exact,
 * instead of one line per signal. A phone whose apps retry blocked names all day trips
 * persistent-attempts dozens of times a day; the safeguarding lead needs "this phone, TikTok, all
 * Monday, 12 signals (340 occurrences), none reviewed", and the signals themselves one command away.
 */

/** Names shown in a cell before "and N more" (every name is in the signal list). */
const NAMES_SHOWN = 3;

/** "2026-09-07 08:01–15:58 BST" (the day, from the first time to the last; the full first time if on another day). */
export function groupWhen(g: SignalGroup): string {
  const last = formatShort(g.last);
  const a = new Date(g.first);
  const b = new Date(g.last);
  // On one local day the first time needs no zone name of its own (formatShort's date and minute
  // without it: one zone look-up per line fewer, of ~2,000 lines).
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
    ? `${last.slice(0, 11)}${two(a.getHours())}:${two(a.getMinutes())}–${last.slice(11)}`
    : `${formatShort(g.first)} – ${last.slice(11)} (${last.slice(0, 10)})`;
}

const two = (n: number) => String(n).padStart(2, '0');

/**
 * The first names seen: "log.tiktokv.com, v16m.tiktokcdn.com and 4 more", after the domains that are
 * not the names' own (persistent-attempts keeps its category there): "tiktok: log.tiktokv.com, …".
 */
export function groupNames(g: SignalGroup): string {
  const shown = g.names.slice(0, NAMES_SHOWN).join(', ');
  const names = g.names.length > NAMES_SHOWN ? `${shown} and ${g.names.length - NAMES_SHOWN} more` : shown;
  const other = g.domains.filter((d) => !g.names.some((n) => n === d || n.endsWith(`.${d}`)));
  return other.length ? `${other.join(', ')}: ${names}` : names;
}

/** The reviews of a group: "12 NOT REVIEWED", "2 NOT REVIEWED; reviewed: no-action 3, sanction 1". */
export function groupReviews(g: SignalGroup): string {
  const done = Object.entries(g.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([o, n]) => `${o || 'reviewed'} ${n}`);
  return [g.unreviewed > 0 ? `${g.unreviewed} NOT REVIEWED` : '', done.length ? `reviewed: ${done.join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
}

/** Local "2026-09-07T08:23" of a time, rounded down (or up) to the minute: a --since/--until value. */
function localMinute(ms: number, up: boolean): string {
  const d = new Date(up ? Math.ceil(ms / 60_000) * 60_000 : Math.floor(ms / 60_000) * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * The command that lists each of a device's signals in the report's period (the same signals the
 * groups count, give or take the minute the period is rounded out to).
 */
export function signalListCommand(client: string, signals: number, from: number, to: number): string {
  const limit = signals > 100 ? ` --limit ${signals}` : '';
  return `webfilter logs signals --client ${client} ${period(from, to)}${limit}`;
}

/** The last period asked (a report asks with the same one for each of its ~2,000 devices). */
let lastPeriod = { from: NaN, to: NaN, tz: '', text: '' };

/** "--since 2026-09-05T00:00 --until 2026-09-12T00:00" in the timezone in force now. */
function period(from: number, to: number): string {
  const tz = process.env.TZ ?? '';
  if (lastPeriod.from !== from || lastPeriod.to !== to || lastPeriod.tz !== tz)
    lastPeriod = { from, to, tz, text: `--since ${localMinute(from, false)} --until ${localMinute(to, true)}` };
  return lastPeriod.text;
}
