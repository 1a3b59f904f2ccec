/**
 * Makes this process's local time the school's. Every time a person types (`--at`, `--until`,
 * `--since`, console filters) or reads (tables, reports, console pages, "today") is meant in the
 * config's `timezone`, whatever the host's TZ (appliances and containers often run UTC: on a UTC host
 * in summer, `--until 15:30` would otherwise end at 16:30 BST). Node applies a new `process.env.TZ` at
 * once, to Date and to the C library (SQLite's 'localtime'), for the main thread and for threads
 * started after it; so the CLI calls this as soon as it has the config, and the daemon before it
 * starts its threads. JSON and the database stay UTC.
 */
export function useTimezone(tz: string): void {
  if (process.env.TZ !== tz) process.env.TZ = tz;
}
