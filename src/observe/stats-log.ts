import type { Logger } from 'pino';
import { RESULTS } from './query-stats.js';

/** Answers sent per `result` (RESULTS order) and packets dropped unanswered, since start. */
export interface AnswerTotals {
  responses: Float64Array;
  dropped: number;
}

/** The answer kind each result is summarised under (errors of every rcode are "error"). */
const KIND_OF_RESULT: Record<(typeof RESULTS)[number], string> = {
  forwarded: 'forwarded',
  cached: 'cached',
  blocked: 'blocked',
  exception: 'exception',
  local: 'local',
  refused: 'refused',
  'upstream-refused': 'error',
  servfail: 'error',
  formerr: 'error',
  notimp: 'error',
  badvers: 'error',
};

/**
 * Writes one summary line to the log per interval (only when there was traffic): answers by kind
 * since the last line, so `journalctl -u webfilter` shows at a glance what the filter has been
 * doing. Read from the query counters (all workers' with `server.workers`), not counted again.
 */
export class StatsLog {
  private last: AnswerTotals | null = null;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    intervalMs: number,
    private readonly totals: () => AnswerTotals | Promise<AnswerTotals>,
  ) {
    this.timer = setInterval(() => void this.report(), intervalMs);
    this.timer.unref();
  }

  /** Logs the answers since the last line; returns what was logged (null when idle). */
  async report(): Promise<Record<string, number> | null> {
    const now = await this.totals();
    const before = this.last;
    this.last = { responses: now.responses.slice(), dropped: now.dropped };
    const counts: Record<string, number> = {};
    let total = 0;
    const add = (kind: string, n: number) => {
      if (n <= 0) return;
      counts[kind] = (counts[kind] ?? 0) + n;
      total += n;
    };
    RESULTS.forEach((r, i) => add(KIND_OF_RESULT[r], now.responses[i] - (before?.responses[i] ?? 0)));
    add('error', now.dropped - (before?.dropped ?? 0));
    if (total === 0) return null;
    const summary = { queries: total, ...counts };
    this.log.info(summary, 'query summary');
    return summary;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
