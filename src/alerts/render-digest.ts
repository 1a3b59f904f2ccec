import type { AlertMessage, MessageSection } from './alert-message.js';
import type { TimeFormat } from './zoned-format.js';

/** One signal row of the day, as the digest lists it (no names looked up beyond the signal's own). */
export interface DigestSignal {
  id: number;
  client: string;
  device: string;
  group: string;
  user: string;
  kind: string;
  severity: string;
  count: number;
  firstTs: number;
  lastTs: number;
  /** The review's outcome and who gave it, or null when it is not reviewed yet. */
  review: { outcome: string; by: string } | null;
}

export interface DigestException {
  id: number;
  what: string;
  target: string;
  approvedBy: string;
  /** When it starts (granted) or ended (ended). */
  at: number;
}

/** Everything the day's digest says, gathered from the store by alerts/digest-data.ts. */
export interface DigestData {
  /** The local day reported on: [start, end). */
  start: number;
  end: number;
  signals: DigestSignal[];
  /** Unreviewed signals from before today (still waiting for someone). */
  olderUnreviewed: number;
  blocked: { group: string; category: string; count: number }[];
  granted: DigestException[];
  ended: DigestException[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The daily digest: unreviewed signals first (by device), then the reviewed ones, blocked attempts
 * by group and category (no devices: the console has them), and the exceptions granted and ended.
 * A day with nothing still sends a "nothing to report" message, so silence means something is wrong.
 */
export function renderDigest(d: DigestData, ctx: { publicUrl: string | null; time: TimeFormat }, now: number): AlertMessage {
  const t = ctx.time;
  const unreviewed = d.signals.filter((s) => !s.review);
  const reviewed = d.signals.filter((s) => s.review);
  const devices = new Set(d.signals.map((s) => s.device || s.client)).size;
  const blockedTotal = d.blocked.reduce((a, b) => a + b.count, 0);
  const nothing =
    d.signals.length === 0 && blockedTotal === 0 && d.granted.length === 0 && d.ended.length === 0 && d.olderUnreviewed === 0;
  const day = t.date(d.start);
  const sections: MessageSection[] = [];
  const byDevice = (list: DigestSignal[], withReview: boolean) => {
    const m = new Map<string, DigestSignal[]>();
    for (const s of list) {
      const k = `${s.device || s.client}\u0000${s.group}`;
      m.set(k, [...(m.get(k) ?? []), s]);
    }
    return [...m.values()].map((rows) => {
      const r0 = rows[0];
      const who = `${r0.device || r0.client}${r0.device ? ` (${r0.client})` : ''}, ${r0.group || 'no group'}${r0.user ? `, ${r0.user}` : ''}`;
      const what = rows
        .map(
          (s) =>
            `#${s.id} ${s.kind} (${s.severity}) ×${s.count} ${t.clock(s.firstTs).slice(0, 5)}–${t.clock(s.lastTs).slice(0, 5)}` +
            (withReview && s.review ? ` — ${s.review.outcome} (${s.review.by})` : ''),
        )
        .join('; ');
      return `${who}: ${what}`;
    });
  };
  if (unreviewed.length > 0 || d.olderUnreviewed > 0) {
    const lines = byDevice(unreviewed, false);
    if (d.olderUnreviewed > 0) lines.push(`${plural(d.olderUnreviewed, 'older signal')} from before today still unreviewed`);
    sections.push({ heading: `Not yet reviewed (${unreviewed.length} today)`, lines });
  }
  if (reviewed.length > 0) sections.push({ heading: `Reviewed (${reviewed.length})`, lines: byDevice(reviewed, true) });
  if (d.blocked.length > 0) {
    sections.push({
      heading: `Blocked attempts by group and category (${blockedTotal})`,
      facts: d.blocked.map((b) => [`${b.group || 'no group'} / ${b.category}`, String(b.count)]),
    });
  }
  const ex = (e: DigestException, verb: string) =>
    `#${e.id} ${e.what} for ${e.target}, approved by ${e.approvedBy} (${verb} ${t.clock(e.at).slice(0, 5)})`;
  if (d.granted.length > 0) sections.push({ heading: 'Exceptions granted', lines: d.granted.map((e) => ex(e, 'from')) });
  if (d.ended.length > 0) sections.push({ heading: 'Exceptions ended', lines: d.ended.map((e) => ex(e, 'ended')) });
  const summary = nothing
    ? `Nothing to report for ${day}: no circumvention signals, no blocked attempts, no exceptions. This digest is sent every day, so a day without one means something is wrong.`
    : `${day}: ${plural(d.signals.length, 'circumvention signal')} from ${plural(devices, 'device')} (${unreviewed.length} not yet reviewed), ${plural(blockedTotal, 'blocked attempt')}, ${plural(d.granted.length, 'exception')} granted and ${d.ended.length} ended.`;
  return {
    type: 'digest',
    subject: nothing
      ? `webfilter daily digest, ${day}: nothing to report`
      : `webfilter daily digest, ${day}: ${plural(d.signals.length, 'signal')}, ${unreviewed.length} unreviewed`,
    summary,
    sections,
    link: ctx.publicUrl ? { url: `${ctx.publicUrl}/signals?since=24h`, label: 'Review today’s signals in the console' } : null,
    footer:
      'Signals are listed by number (#id): record what was done on the Signals page or with `webfilter signal review ID`. ' +
      'This digest lists counts and signals only, not anyone’s browsing.',
    createdAt: now,
    data: {
      day_start: new Date(d.start).toISOString(),
      signals: d.signals.length,
      unreviewed: unreviewed.length,
      older_unreviewed: d.olderUnreviewed,
      devices,
      blocked: blockedTotal,
      exceptions_granted: d.granted.length,
      exceptions_ended: d.ended.length,
    },
  };
}
