import { count } from '../text/plural.js';

/**
 * How signals are counted wherever they are shown. A signal is one row: the same device, kind and
 * domain within 10 minutes; its count is how often it happened. One tunnelling burst is one signal
 * of 130 occurrences, so a total is always given as both: "11 signals, 161 occurrences".
 */
export function describeSignals(signals: number, occurrences: number): string {
  return `${count(signals, 'signal')}, ${count(occurrences, 'occurrence')}`;
}

/** The signals and their occurrences among rows that carry a count. */
export function tallySignals(rows: readonly { count: number }[]): { signals: number; occurrences: number } {
  return { signals: rows.length, occurrences: rows.reduce((n, r) => n + r.count, 0) };
}
