/** Durations as people write them: "50m", "2h", "1h30m", "3d", "90s", "1w". */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds in a duration like "1h30m"; throws an Error naming the text when it is not one. */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (!/^(\d+[smhdw])+$/.test(t)) throw new Error(`"${text}" is not a duration (e.g. 50m, 2h, 1h30m, 3d)`);
  let ms = 0;
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  if (ms <= 0) throw new Error(`"${text}" is not a positive duration`);
  return ms;
}

/** "2d 3h 5m" style, for people (largest units first, seconds only under a minute). */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 60_000);
  for (const [unit, size] of [
    ['d', 1440],
    ['h', 60],
    ['m', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}
