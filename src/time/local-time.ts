/**
 * Local date and time parsing and formatting for people. "Local" is the process's timezone, which
 * the CLI and the daemon set to the config's `timezone` (useTimezone in ./zone.ts); every formatted
 * time names its zone (GMT/BST), so a reader never has to guess.
 */

/** Formatters for the timezone in force now (created after useTimezone, never cached across a change). */
const FORMATS = new Map<string, { long: Intl.DateTimeFormat; zone: Intl.DateTimeFormat }>();
function formats(): { long: Intl.DateTimeFormat; zone: Intl.DateTimeFormat } {
  const key = process.env.TZ ?? '';
  let f = FORMATS.get(key);
  if (!f) {
    f = {
      long: new Intl.DateTimeFormat('en-GB', {
        weekday: 'short',
        day: '2-digit',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      }),
      zone: new Intl.DateTimeFormat('en-GB', { timeZoneName: 'short' }),
    };
    FORMATS.set(key, f);
  }
  return f;
}

/**
 * Zone names already worked out, by timezone and hour, with the UTC offset they were found at:
 * formatToParts costs ~15 µs and a report names the zone of every time it shows (tens of thousands).
 * A lookup whose offset differs from the hour's (a change of offset within that hour) asks Intl again.
 */
const ZONE_NAMES = new Map<string, { offset: number; name: string }>();

/** The zone's short name at an instant: "GMT", "BST", "UTC", "CET". */
export function zoneName(ms: number): string {
  const offset = new Date(ms).getTimezoneOffset();
  const key = `${process.env.TZ ?? ''}\u0000${Math.floor(ms / 3_600_000)}`;
  const hit = ZONE_NAMES.get(key);
  if (hit && hit.offset === offset) return hit.name;
  const name =
    formats()
      .zone.formatToParts(new Date(ms))
      .find((p) => p.type === 'timeZoneName')?.value ?? '';
  if (ZONE_NAMES.size >= 10_000) ZONE_NAMES.clear();
  if (!hit) ZONE_NAMES.set(key, { offset, name });
  return name;
}

/** "Mon, 24 Nov 2026, 15:30:00 GMT". */
export function formatLocal(ms: number): string {
  return formats().long.format(new Date(ms));
}

/** "2026-11-24 15:30 GMT" in local time, for tables. */
export function formatShort(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())} ${zoneName(ms)}`;
}

/** "2026-11-24 15:30:07 GMT" in local time: a table cell where the second matters (evidence, audit). */
export function formatSeconds(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${formatShort(ms).slice(0, 16)}:${p(d.getSeconds())} ${zoneName(ms)}`;
}

/** An ISO-8601 UTC instant inside a text: "2026-11-24T15:30:00.000Z", "2026-11-24T15:00Z". */
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z\b/g;

/**
 * A stored text with each ISO UTC instant in it shown in local time naming its zone, for people
 * (the audit's detail, written as "… until 2026-11-24T15:30:00.000Z, approved by …", reads
 * "… until 2026-11-24 15:30 GMT, approved by …"): to the minute when the instant is on one, else to
 * the second. The stored text (JSON, CSV) stays as it is.
 */
export function localTimesIn(text: string): string {
  return text.replace(ISO_INSTANT, (iso) => {
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return iso;
    return ms % 60_000 === 0 ? formatShort(ms) : formatSeconds(ms);
  });
}

/**
 * A point in local time: "15:30" (today), "2026-12-01T15:30", "2026-12-01 15:30", "2026-12-01"
 * (midnight), with optional seconds; or an ISO time with a zone ("…Z", "…+01:00").
 * Throws an Error naming the text when it is none of these.
 */
export function parseLocalTime(text: string, now: number): number {
  const t = text.trim();
  const hm = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (hm) {
    const d = new Date(now);
    return check(
      new Date(d.getFullYear(), d.getMonth(), d.getDate(), Number(hm[1]), Number(hm[2]), Number(hm[3] ?? 0)),
      t,
      Number(hm[1]),
      Number(hm[2]),
    );
  }
  const full = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (full) {
    const [, y, mo, da, h = '0', mi = '0', s = '0'] = full;
    return check(
      new Date(Number(y), Number(mo) - 1, Number(da), Number(h), Number(mi), Number(s)),
      t,
      Number(h),
      Number(mi),
      Number(mo),
      Number(da),
    );
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(t) && !Number.isNaN(Date.parse(t))) return Date.parse(t);
  throw new Error(`"${text}" is not a time (use 15:30, 2026-12-01T15:30 or 2026-12-01)`);
}

function check(d: Date, text: string, h: number, mi: number, mo?: number, da?: number): number {
  const ok = h < 24 && mi < 60 && (mo === undefined || (d.getMonth() + 1 === mo && d.getDate() === da));
  if (!ok || Number.isNaN(d.getTime())) throw new Error(`"${text}" is not a valid date or time`);
  return d.getTime();
}
