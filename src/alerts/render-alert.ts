import type { AlertMessage, MessageSection } from './alert-message.js';
import { describeKind, type AlertSignal } from './alert-signal.js';
import type { TimeFormat } from './zoned-format.js';

/**
 * The immediate messages: one device's signals, and the "… and N more" message after the hourly cap.
 * They say who (device, address, user, group), what (kind, severity, the registry's plain words,
 * the first name looked up) and when, and link to the device's console page. Nothing of the
 * device's other browsing is included: the console shows that to whoever may see it, and audits it.
 */

/** One device's signals as the grouper hands them over. */
export interface DeviceAlert {
  client: string;
  device: string;
  group: string;
  user: string;
  /** Kinds not reported for this device within alerts.repeat_minutes: the news. */
  signals: AlertSignal[];
  /** Further occurrences of kinds reported recently (not news; counted so nothing is hidden). */
  repeats: AlertSignal[];
}

export interface RenderContext {
  /** console.public_url without a trailing slash, or null. */
  publicUrl: string | null;
  time: TimeFormat;
}

const SEVERITY_ORDER: Record<string, number> = { high: 0, medium: 1, low: 2 };
const bySeverity = (a: AlertSignal, b: AlertSignal) =>
  (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || a.firstTs - b.firstTs;

/** The device's name, or its address when it has none. */
export function deviceLabel(a: { device: string; client: string }): string {
  return a.device || a.client;
}

/** The console's page of a device (by name when it has one, else by address), or null without public_url. */
export function deviceUrl(publicUrl: string | null, a: { device: string; client: string }): string | null {
  if (!publicUrl) return null;
  return a.device
    ? `${publicUrl}/device?name=${encodeURIComponent(a.device)}`
    : `${publicUrl}/device?client=${encodeURIComponent(a.client)}`;
}

function times(s: AlertSignal, t: TimeFormat): string {
  const n = s.count === 1 ? 'once' : `${s.count} times`;
  return s.firstTs === s.lastTs ? `${n}, at ${t.clock(s.firstTs)}` : `${n}, ${t.clock(s.firstTs)} to ${t.clock(s.lastTs)}`;
}

export function renderDeviceAlert(a: DeviceAlert, ctx: RenderContext, now: number): AlertMessage {
  const news = [...a.signals].sort(bySeverity);
  const top = news[0] ?? a.repeats[0];
  const label = deviceLabel(a);
  const kinds = news.map((s) => s.kind).join(', ');
  const first = Math.min(...news.map((s) => s.firstTs));
  const who: [string, string][] = [
    ['Device', a.device || '(no name known)'],
    ['Address', a.client],
  ];
  if (a.user) who.push(['User', a.user]);
  who.push(['Group', a.group || '(none)'], ['First seen', ctx.time.full(first)]);
  const sections: MessageSection[] = [{ heading: 'Who', facts: who }];
  for (const s of news) {
    sections.push({
      heading: `${s.kind} (${s.severity} severity)`,
      facts: [
        ['What it means', describeKind(s.kind)],
        ['Name looked up', s.qname],
        ['When', times(s, ctx.time)],
      ],
    });
  }
  if (a.repeats.length > 0) {
    sections.push({
      heading: 'Also, already reported recently',
      lines: a.repeats.map((s) => `${s.kind}: ${times(s, ctx.time)} more`),
    });
  }
  const url = deviceUrl(ctx.publicUrl, a);
  return {
    type: 'signals',
    subject: `webfilter alert: ${kinds} by ${label}${a.group ? ` (${a.group})` : ''}`,
    summary: `${label}${a.user ? ` (${a.user})` : ''} in group ${a.group || '(none)'} tried to get round the filter: ${news.map((s) => `${s.kind} (${s.severity})`).join(', ')}, first at ${ctx.time.full(first)}.`,
    sections,
    link: url ? { url, label: `Open ${label} in the review console` } : null,
    footer:
      'When you have dealt with it, record what was done: Signals page of the console, or `webfilter signal review ID`. ' +
      (url ? '' : 'Set console.public_url for a link to the device. ') +
      'This message holds only the signal, not the device’s browsing.',
    createdAt: now,
    data: {
      device: a.device,
      client: a.client,
      user: a.user || null,
      group: a.group,
      signals: news.map((s) => ({
        kind: s.kind,
        severity: s.severity,
        description: describeKind(s.kind),
        qname: s.qname,
        count: s.count,
        first_seen: new Date(s.firstTs).toISOString(),
        last_seen: new Date(s.lastTs).toISOString(),
      })),
      repeats: a.repeats.map((s) => ({ kind: s.kind, count: s.count })),
      severity: top?.severity ?? '',
    },
  };
}

/** The message sent when the hourly cap held some back: which devices, which kinds, how many. */
export function renderOverflow(held: DeviceAlert[], more: number, cap: number, ctx: RenderContext, now: number): AlertMessage {
  const total = held.length + more;
  const lines = held.map((a) => {
    const kinds = [...a.signals, ...a.repeats].map((s) => `${s.kind} ×${s.count}`).join(', ');
    return `${deviceLabel(a)} (${a.group || 'no group'}${a.user ? `, ${a.user}` : ''}): ${kinds}`;
  });
  if (more > 0) lines.push(`… and ${more} more`);
  return {
    type: 'overflow',
    subject: `webfilter alert: … and ${total} more (over ${cap} alerts in an hour)`,
    summary: `… and ${total} more alert${total === 1 ? '' : 's'}: more than ${cap} messages would have been sent within the hour (alerts.max_per_hour), so these were held back and are listed here instead.`,
    sections: [{ heading: 'Devices held back', lines }],
    link: ctx.publicUrl ? { url: `${ctx.publicUrl}/signals?since=2h`, label: 'Open the Signals page' } : null,
    footer: 'Each of these signals is in the console and in today’s digest.',
    createdAt: now,
    data: { held: held.map((a) => ({ device: a.device, client: a.client, group: a.group })), more },
  };
}

/** `webfilter alerts test`: says what is configured, so ICT can see the channel works end to end. */
export function renderTest(ctx: RenderContext, now: number, host: string): AlertMessage {
  return {
    type: 'test',
    subject: 'webfilter alert: test message',
    summary: `This is a test of webfilter's alerts from ${host}, sent at ${ctx.time.full(now)}. If you can read it, this channel works.`,
    sections: [],
    link: ctx.publicUrl ? { url: `${ctx.publicUrl}/`, label: 'Open the review console' } : null,
    footer: ctx.publicUrl ? '' : 'console.public_url is not set: real alerts will carry no link to the device.',
    createdAt: now,
  };
}
