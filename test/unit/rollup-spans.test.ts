import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spans } from '../../src/storage/rollup-spans.js';

const HOUR = 3_600_000;

/** The times of [lo, hi) a span covers, as +1/-1 per minute: whole units, plus, minus. */
function cover(from: number, to: number, unit: number): Map<number, number> {
  const s = spans(from, to, unit);
  const m = new Map<number, number>();
  const add = (a: number, b: number, k: number) => {
    for (let t = a; t < b; t += 60_000) m.set(t, (m.get(t) ?? 0) + k);
  };
  add(s.u0 * unit, s.u1 * unit, 1);
  for (const [a, b] of s.plus) add(a, b, 1);
  for (const [a, b] of s.minus) add(a, b, -1);
  for (const [t, k] of m) if (k === 0) m.delete(t);
  return m;
}

test('every minute of the period is counted once and none outside it, however the ends fall', () => {
  const day = 24 * HOUR;
  const base = Date.UTC(2026, 8, 7);
  const ends = [0, 60_000, HOUR, 11 * HOUR, 12 * HOUR, 13 * HOUR, 23 * HOUR, day - 60_000, day, day + HOUR, 2 * day - HOUR];
  for (const unit of [HOUR, day])
    for (const a of ends)
      for (const b of ends) {
        if (b <= a) continue;
        const got = cover(base + a, base + b, unit);
        const want = new Map<number, number>();
        for (let t = base + a; t < base + b; t += 60_000) want.set(t, 1);
        assert.equal(got, want, `[${a / 60_000}, ${b / 60_000}) min, unit ${unit / HOUR} h`);
      }
});

test('a long ragged end is read as the whole unit less the short part outside the period', () => {
  const day = 24 * HOUR;
  const base = Date.UTC(2026, 8, 7);
  // A UK summer week: local midnights are 23:00 UTC.
  const s = spans(base - HOUR, base + 7 * day - HOUR, day);
  assert.equal(s.plus, [[base - HOUR, base]]);
  assert.equal(s.minus, [[base + 7 * day - HOUR, base + 7 * day]]);
  assert.equal([s.u0, s.u1], [base / day, base / day + 7]);
  // Short ends stay raw; an empty period reads nothing.
  assert.equal(spans(base + HOUR, base + 2 * HOUR, day).plus, [[base + HOUR, base + 2 * HOUR]]);
  assert.equal(spans(base, base, day), { u0: 0, u1: 0, plus: [], minus: [] });
});

test.run();
