import type { PermissionRequest, RequestsRepository } from '../storage/requests.js';

/** How often pending requests are checked: an expiry is recorded within this long (its time is exact). */
export const HOUSEKEEPING_MS = 1000;

/** A request handed for announcing but not confirmed sent (alerts off, say) is handed again after this. */
export const ANNOUNCE_AGAIN_MS = 60_000;

export interface HousekeepingEvents {
  /** Pending requests past their due time, now recorded as expired. */
  expired(requests: PermissionRequest[]): void;
  /** Pending requests the approvers have not been told of; `announced` is to be called once they are. */
  pending(requests: PermissionRequest[]): void;
  /** A round failed (the next is tried anyway); reported once per failure streak. */
  failed(error: Error): void;
}

/**
 * Runs every HOUSEKEEPING_MS in the evidence writer thread (which owns the daemon's connection to
 * the store): records pending requests past their start (or, for a request for now, their end) as
 * expired, and hands new pending ones over to be announced to the approvers. Returns `stop` and
 * `announced` (records that requests were sent, so they are not handed over again).
 */
export function startRequestHousekeeping(
  requests: RequestsRepository,
  events: HousekeepingEvents,
): { stop(): void; announced(ids: number[], at: number): Promise<void> } {
  const handed = new Map<number, number>();
  let running = false;
  let failing = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const now = Date.now();
      const expired = await requests.expireDue(now);
      if (expired.length > 0) events.expired(expired);
      const waiting = await requests.unnotified();
      const ids = new Set(waiting.map((r) => r.id));
      for (const id of handed.keys()) if (!ids.has(id)) handed.delete(id); // decided or expired meanwhile
      const fresh = waiting.filter((r) => (handed.get(r.id) ?? -Infinity) + ANNOUNCE_AGAIN_MS <= now);
      for (const r of fresh) handed.set(r.id, now);
      if (fresh.length > 0) events.pending(fresh);
      failing = false;
    } catch (e) {
      if (!failing) events.failed(e as Error);
      failing = true;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), HOUSEKEEPING_MS);
  void round();
  return {
    stop: () => clearInterval(timer),
    announced: async (ids, at) => {
      await requests.markNotified(ids, at);
      for (const id of ids) handed.delete(id);
    },
  };
}
