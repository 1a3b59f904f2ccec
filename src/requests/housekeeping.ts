import type { PermissionRequest, RequestsRepository } from '../storage/requests.js';
import type { RequestNotifier } from './notify.js';

/** How often pending requests are checked: an expiry is recorded within this long (its time is exact). */
export const HOUSEKEEPING_MS = 1000;

export interface HousekeepingReport {
  expired: Pick<PermissionRequest, 'id' | 'group'>[];
  notified: number;
  error?: string;
}

/**
 * One round: records pending requests whose start (or, for a request for now, end) has passed as
 * expired, and tells the approvers of new pending ones when a channel is configured.
 */
export async function requestHousekeeping(
  requests: RequestsRepository,
  notifier: RequestNotifier,
  consoleUrl: string | null,
  now: number,
): Promise<HousekeepingReport> {
  const expired = (await requests.expireDue(now)).map((r) => ({ id: r.id, group: r.group }));
  let notified = 0;
  if (notifier.enabled) {
    const waiting = await requests.unnotified();
    if (waiting.length > 0) {
      await notifier.pending(waiting, consoleUrl);
      await requests.markNotified(
        waiting.map((r) => r.id),
        now,
      );
      notified = waiting.length;
    }
  }
  return { expired, notified };
}

/**
 * Runs a round every HOUSEKEEPING_MS (in the evidence writer thread, which owns the daemon's
 * connection to the store) and reports what it did; a failed round is reported and tried again.
 */
export function startRequestHousekeeping(
  requests: RequestsRepository,
  notifier: RequestNotifier,
  consoleUrl: string | null,
  report: (r: HousekeepingReport) => void,
): () => void {
  let running = false;
  let failing = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const r = await requestHousekeeping(requests, notifier, consoleUrl, Date.now());
      failing = false;
      if (r.expired.length > 0 || r.notified > 0) report(r);
    } catch (e) {
      if (!failing) report({ expired: [], notified: 0, error: (e as Error).message });
      failing = true;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), HOUSEKEEPING_MS);
  void round();
  return () => clearInterval(timer);
}
