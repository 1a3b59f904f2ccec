/**
 * Times in alert messages, in the config's timezone (the school's), whatever the appliance's own
 * TZ: a DSL reading an e-mail at home compares it with the school day.
 */
export interface TimeFormat {
  /** "Tue 1 Dec 2026, 10:42:05 GMT". */
  full(ms: number): string;
  /** "10:42:05". */
  clock(ms: number): string;
  /** "Tue 1 Dec 2026". */
  date(ms: number): string;
}

export function timeFormat(timezone: string): TimeFormat {
  const full = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  const clock = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const date = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
  return {
    full: (ms) => full.format(ms).replace(/,(?= \d{2}:)/, ','),
    clock: (ms) => clock.format(ms),
    date: (ms) => date.format(ms),
  };
}
