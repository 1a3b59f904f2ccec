import type { AlertSignal } from './alert-signal.js';
import type { Clock } from './clock.js';
import type { DeviceAlert } from './render-alert.js';

export interface GrouperSettings {
  /** How long a device's first new signal waits for others before its message goes. */
  groupMs: number;
  /** A kind reported for a device is not news again for this long. */
  repeatMs: number;
  /** Messages per clock hour; the rest go in one "… and N more" message at the next hour. */
  maxPerHour: number;
}

/** Devices waiting at once, and devices listed in one overflow message: bounds on memory. */
const MAX_PENDING = 10_000;
const MAX_HELD = 50;

/**
 * Turns a stream of signals into few messages, so the safeguarding lead is told at once but not
 * flooded:
 * - a device's first new signal opens a window of `groupMs`; its other signals in that window join
 *   the same message (a VPN app that also tries encrypted DNS is one message, not two);
 * - a kind already reported for the device within `repeatMs` is not news: its further occurrences
 *   are carried in the device's next message, if any, and are in the digest and the console;
 * - at most `maxPerHour` messages per clock hour; the rest are held and sent as one message listing
 *   them when the next hour starts.
 * Everything is bounded (devices waiting, devices held); what does not fit is counted in `dropped`.
 */
export class SignalGrouper {
  private readonly pending = new Map<string, { alert: DeviceAlert; cancel: () => void }>();
  /** device key + kind → when it was last reported. */
  private readonly reported = new Map<string, number>();
  /** device key → repeats seen since its last message (kind → signal). */
  private readonly repeats = new Map<string, Map<string, AlertSignal>>();
  private hour = -1;
  private sentThisHour = 0;
  private held: DeviceAlert[] = [];
  private heldMore = 0;
  private cancelHourTimer: (() => void) | null = null;
  /** Signals lost to the bounds (none in normal use). */
  dropped = 0;

  constructor(
    private settings: GrouperSettings,
    private readonly clock: Clock,
    private readonly emit: {
      device(a: DeviceAlert): void;
      overflow(held: DeviceAlert[], more: number, cap: number): void;
    },
  ) {}

  configure(settings: GrouperSettings): void {
    this.settings = settings;
  }

  add(s: AlertSignal): void {
    const key = s.device || s.client;
    const now = this.clock.now();
    const last = this.reported.get(`${key}\u0000${s.kind}`);
    const open = this.pending.get(key);
    if (last !== undefined && now - last < this.settings.repeatMs && !open?.alert.signals.some((x) => x.kind === s.kind)) {
      let r = this.repeats.get(key);
      if (!r) {
        if (this.repeats.size >= MAX_PENDING) return void this.dropped++;
        this.repeats.set(key, (r = new Map()));
      }
      merge(r, s);
      return;
    }
    if (open) {
      const same = open.alert.signals.find((x) => x.kind === s.kind);
      if (same) absorb(same, s);
      else open.alert.signals.push({ ...s });
      if (!open.alert.user && s.user) open.alert.user = s.user;
      return;
    }
    if (this.pending.size >= MAX_PENDING) return void this.dropped++;
    const alert: DeviceAlert = {
      client: s.client,
      device: s.device,
      group: s.group,
      user: s.user,
      signals: [{ ...s }],
      repeats: [],
    };
    const cancel = this.clock.after(this.settings.groupMs, () => this.due(key));
    this.pending.set(key, { alert, cancel });
  }

  /** Forgets reported kinds older than the repeat window (call now and then: bounded memory). */
  prune(): void {
    const now = this.clock.now();
    for (const [k, t] of this.reported) if (now - t >= this.settings.repeatMs) this.reported.delete(k);
    for (const [k, r] of this.repeats) {
      if ([...r.values()].every((s) => now - s.lastTs >= this.settings.repeatMs)) this.repeats.delete(k);
    }
  }

  /** Sends nothing more; pending windows are dropped (the digest and the console still have them). */
  stop(): void {
    for (const p of this.pending.values()) p.cancel();
    this.pending.clear();
    this.cancelHourTimer?.();
  }

  /** Devices waiting for their window to close (for tests and status). */
  get waiting(): number {
    return this.pending.size;
  }

  private due(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const now = this.clock.now();
    for (const s of p.alert.signals) this.reported.set(`${key}\u0000${s.kind}`, now);
    const r = this.repeats.get(key);
    if (r) {
      p.alert.repeats = [...r.values()];
      this.repeats.delete(key);
    }
    this.rollHour(now);
    if (this.sentThisHour < this.settings.maxPerHour) {
      this.sentThisHour++;
      this.emit.device(p.alert);
      return;
    }
    if (this.held.length < MAX_HELD) this.held.push(p.alert);
    else this.heldMore++;
    this.armHourTimer(now);
  }

  private rollHour(now: number): void {
    const hour = Math.floor(now / 3_600_000);
    if (hour !== this.hour) {
      this.hour = hour;
      this.sentThisHour = 0;
    }
  }

  private armHourTimer(now: number): void {
    if (this.cancelHourTimer) return;
    const next = (Math.floor(now / 3_600_000) + 1) * 3_600_000;
    this.cancelHourTimer = this.clock.after(next - now, () => {
      this.cancelHourTimer = null;
      this.rollHour(this.clock.now());
      if (this.held.length === 0 && this.heldMore === 0) return;
      const held = this.held;
      const more = this.heldMore;
      this.held = [];
      this.heldMore = 0;
      this.sentThisHour++;
      this.emit.overflow(held, more, this.settings.maxPerHour);
    });
  }
}

function absorb(into: AlertSignal, s: AlertSignal): void {
  into.count += s.count;
  into.firstTs = Math.min(into.firstTs, s.firstTs);
  into.lastTs = Math.max(into.lastTs, s.lastTs);
}

function merge(m: Map<string, AlertSignal>, s: AlertSignal): void {
  const cur = m.get(s.kind);
  if (cur) absorb(cur, s);
  else m.set(s.kind, { ...s });
}
