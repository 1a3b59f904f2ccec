/**
 * Alert grouping, repeats, the hourly cap and retries, with a fake clock: the parts of alerting whose
 * rules are about time. (The real daemon, SMTP server and webhook receiver are in test/e2e/alerts-*.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { SignalGrouper } from '../../src/alerts/signal-grouper.js';
import type { AlertSignal } from '../../src/alerts/alert-signal.js';
import { alertSignals, ImmediateFilter } from '../../src/alerts/alert-signal.js';
import type { DeviceAlert } from '../../src/alerts/render-alert.js';
import { Outbox } from '../../src/alerts/outbox.js';
import type { AlertChannel } from '../../src/alerts/channels.js';
import type { AlertMessage } from '../../src/alerts/alert-message.js';
import { nextDigestAt } from '../../src/alerts/digest-schedule.js';
import { AlertService } from '../../src/alerts/alert-service.js';
import type { AlertSettings } from '../../src/alerts/alert-settings.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0); // Tue 1 Dec 2026, 10:00 GMT

function sig(over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    client: '10.0.0.7',
    device: 'Y9-LT-07',
    group: 'students',
    user: '',
    kind: 'vpn-proxy',
    severity: 'high',
    qname: 'nordvpn.com',
    domain: 'nordvpn.com',
    detail: 'x',
    count: 1,
    firstTs: T0,
    lastTs: T0,
    ...over,
  };
}

function grouper(clock: FakeClock, max = 20) {
  const sent: DeviceAlert[] = [];
  const overflow: { held: DeviceAlert[]; more: number }[] = [];
  const g = new SignalGrouper({ groupMs: 20_000, repeatMs: 30 * 60_000, maxPerHour: max }, clock, {
    device: (a) => sent.push(a),
    overflow: (held, more) => overflow.push({ held, more }),
  });
  return { g, sent, overflow };
}

test('one device: signals within the window are one message; the same kind again is a repeat, a new kind is news', async () => {
  const clock = new FakeClock(T0);
  const { g, sent } = grouper(clock);
  g.add(sig());
  await clock.advance(5_000);
  g.add(sig({ kind: 'encrypted-dns', qname: 'dns.google', firstTs: T0 + 5000, lastTs: T0 + 5000 }));
  g.add(sig({ count: 3, firstTs: T0 + 5000, lastTs: T0 + 6000 }));
  assert.is(sent.length, 0, 'nothing before the window closes');
  await clock.advance(15_000);
  assert.is(sent.length, 1);
  assert.equal(
    sent[0].signals.map((s) => [s.kind, s.count]),
    [
      ['vpn-proxy', 4],
      ['encrypted-dns', 1],
    ],
  );
  // 50 more of the same kind over the next minutes: no message.
  for (let i = 0; i < 50; i++) {
    g.add(sig({ firstTs: clock.now(), lastTs: clock.now() }));
    await clock.advance(3_000);
  }
  assert.is(sent.length, 1);
  // A new kind: news, with the repeats carried along.
  g.add(sig({ kind: 'tunnel', severity: 'high', firstTs: clock.now(), lastTs: clock.now() }));
  await clock.advance(20_000);
  assert.is(sent.length, 2);
  assert.equal(
    sent[1].signals.map((s) => s.kind),
    ['tunnel'],
  );
  assert.equal(
    sent[1].repeats.map((s) => [s.kind, s.count]),
    [['vpn-proxy', 50]],
  );
  // After the repeat window, the first kind is news again.
  await clock.advance(30 * 60_000);
  g.prune();
  g.add(sig({ firstTs: clock.now(), lastTs: clock.now() }));
  await clock.advance(20_000);
  assert.is(sent.length, 3);
});

test('devices are grouped separately', async () => {
  const clock = new FakeClock(T0);
  const { g, sent } = grouper(clock);
  g.add(sig());
  g.add(sig({ client: '10.0.0.8', device: 'Y9-LT-08' }));
  g.add(sig({ client: '10.0.0.9', device: '' }));
  await clock.advance(20_000);
  assert.equal(sent.map((a) => a.device || a.client).sort(), ['10.0.0.9', 'Y9-LT-07', 'Y9-LT-08']);
});

test('hourly cap: past max_per_hour, one "… and N more" message when the next hour starts', async () => {
  const clock = new FakeClock(T0);
  const { g, sent, overflow } = grouper(clock, 3);
  for (let i = 0; i < 8; i++) g.add(sig({ client: `10.0.0.${i}`, device: `PC-${i}` }));
  await clock.advance(20_000);
  assert.is(sent.length, 3);
  assert.is(overflow.length, 0, 'held until the hour ends');
  await clock.advance(3_600_000 - 20_000 - 1);
  assert.is(overflow.length, 0);
  await clock.advance(1);
  assert.is(overflow.length, 1);
  assert.equal(
    overflow[0].held.map((a) => a.device),
    ['PC-3', 'PC-4', 'PC-5', 'PC-6', 'PC-7'],
  );
  // The overflow message counted in its hour: two more fit, the third is held again.
  for (let i = 10; i < 13; i++) g.add(sig({ client: `10.0.0.${i}`, device: `PC-${i}` }));
  await clock.advance(20_000);
  assert.is(sent.length, 5);
});

test('the writer hands over only the immediate kinds and severities, one per device and kind', () => {
  const rows = [
    {
      ts: 1,
      client: 'a',
      device: 'A',
      grp: 'g',
      kind: 'vpn-proxy',
      severity: 'high',
      qname: 'x.nordvpn.com',
      domain: 'nordvpn.com',
      detail: '',
      count: 1,
    },
    {
      ts: 5,
      client: 'a',
      device: 'A',
      grp: 'g',
      kind: 'vpn-proxy',
      severity: 'high',
      qname: 'y.nordvpn.com',
      domain: 'nordvpn.com',
      detail: '',
      count: 2,
    },
    {
      ts: 2,
      client: 'a',
      device: 'A',
      grp: 'g',
      kind: 'doh-canary',
      severity: 'low',
      qname: 'u',
      domain: 'u',
      detail: '',
      count: 1,
    },
    {
      ts: 3,
      client: 'b',
      device: 'B',
      grp: 'g',
      kind: 'persistent-attempts',
      severity: 'medium',
      qname: 'f',
      domain: 'facebook',
      detail: '',
      count: 1,
    },
  ];
  const got = alertSignals(
    rows.map((r) => ({ ...r, user: r.client === 'a' ? 'y9.student' : '' })),
    new ImmediateFilter(['high', 'persistent-attempts']),
  );
  assert.equal(
    got.map((s) => [s.client, s.kind, s.count, s.firstTs, s.lastTs, s.qname, s.user]),
    [
      ['a', 'vpn-proxy', 3, 1, 5, 'x.nordvpn.com', 'y9.student'],
      ['b', 'persistent-attempts', 1, 3, 3, 'f', ''],
    ],
  );
});

class FlakyChannel implements AlertChannel {
  readonly name = 'email' as const;
  readonly target = 'test';
  sent: string[] = [];
  constructor(public failures: number) {}
  async send(m: AlertMessage): Promise<void> {
    if (this.failures-- > 0) throw new Error('connect ECONNREFUSED');
    this.sent.push(m.subject);
  }
  close(): void {}
}

const msg = (subject: string, createdAt: number): AlertMessage => ({
  type: 'signals',
  subject,
  summary: '',
  sections: [],
  link: null,
  footer: '',
  createdAt,
});

test('outbox: retries with a doubling wait, keeps order, loses nothing; gives up after a day', async () => {
  const clock = new FakeClock(T0);
  const ch = new FlakyChannel(4);
  const results: string[] = [];
  const o = new Outbox(ch, { maxQueue: 10, firstRetryMs: 5000, maxRetryMs: 300_000, giveUpMs: 86_400_000 }, clock, (_c, r) =>
    results.push(r),
  );
  o.enqueue(msg('a', T0));
  o.enqueue(msg('b', T0));
  await clock.advance(0);
  assert.equal(results, ['failed']);
  await clock.advance(4_999);
  assert.equal(results, ['failed'], 'first retry after 5 s');
  await clock.advance(1);
  assert.equal(results, ['failed', 'failed']);
  await clock.advance(10_000 + 20_000 + 40_000);
  assert.equal(ch.sent, ['a', 'b']);
  assert.equal(results, ['failed', 'failed', 'failed', 'failed', 'sent', 'sent']);
  const dead = new FlakyChannel(1_000_000);
  const r2: string[] = [];
  const o2 = new Outbox(dead, { maxQueue: 2, firstRetryMs: 5000, maxRetryMs: 300_000, giveUpMs: 86_400_000 }, clock, (_c, r) =>
    r2.push(r),
  );
  o2.enqueue(msg('x', clock.now()));
  o2.enqueue(msg('y', clock.now()));
  o2.enqueue(msg('z', clock.now()));
  assert.is(r2.filter((r) => r === 'abandoned').length, 1, 'bounded: the oldest waiting one goes');
  await clock.advance(86_400_000 + 600_000);
  assert.is(o2.depth, 0);
  assert.is(r2.filter((r) => r === 'abandoned').length, 3);
  o2.close();
});

test('digest times: 16:00 on the wall in Europe/London across the clock change, on the configured days', () => {
  const days = ['mon', 'tue', 'wed', 'thu', 'fri'];
  const at = (iso: string) => new Date(nextDigestAt(Date.parse(iso), '16:00', days, 'Europe/London')).toISOString();
  assert.is(at('2026-12-01T10:00:00Z'), '2026-12-01T16:00:00.000Z');
  assert.is(at('2026-12-01T16:00:00Z'), '2026-12-02T16:00:00.000Z', 'at the time itself: the next one');
  assert.is(at('2026-12-04T17:00:00Z'), '2026-12-07T16:00:00.000Z', 'Friday evening: Monday');
  assert.is(at('2026-06-01T10:00:00Z'), '2026-06-01T15:00:00.000Z', 'BST');
  assert.is(at('2026-03-27T16:30:00Z'), '2026-03-30T15:00:00.000Z', 'over the spring change');
});

test('digest: sent once at its time; a daemon down at that time sends it when it starts', async () => {
  const clock = new FakeClock(Date.parse('2026-12-01T15:59:00Z'));
  const ch = new FlakyChannel(0);
  const settings: AlertSettings = {
    email: null,
    webhook: null,
    immediate: ['high'],
    grouper: { groupMs: 0, repeatMs: 60_000, maxPerHour: 5 },
    digest: { at: '16:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], to: null },
    timezone: 'Europe/London',
    publicUrl: null,
    host: 'test',
  };
  const days: number[] = [];
  const opts = {
    clock,
    log: pino({ level: 'silent' }),
    onResult: () => {},
    channels: () => [ch],
    digestSource: async (start: number) => ({
      start,
      end: start + 86_400_000,
      signals: [],
      olderUnreviewed: 0,
      blocked: [],
      granted: [],
      ended: [],
    }),
    onDigest: (d: number) => days.push(d),
  };
  const s = new AlertService(settings, opts);
  s.scheduleDigest(null);
  await clock.advance(59_000);
  assert.equal(ch.sent, []);
  await clock.advance(1_000);
  assert.equal(ch.sent, ['webfilter daily digest, Tue, 1 Dec 2026: nothing to report']);
  await clock.advance(86_400_000);
  assert.is(ch.sent.length, 2);
  assert.equal(
    days.map((d) => new Date(d).toISOString()),
    ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
  );
  s.close();
  // Started at 17:00 after being down at 16:00, with yesterday's digest the last sent: today's goes now.
  const ch2 = new FlakyChannel(0);
  const late = new AlertService(settings, { ...opts, channels: () => [ch2] });
  clock.t = Date.parse('2026-12-03T17:00:00Z');
  late.scheduleDigest(Date.parse('2026-12-02T00:00:00Z'));
  await clock.advance(0);
  assert.equal(ch2.sent, ['webfilter daily digest, Thu, 3 Dec 2026: nothing to report']);
  late.close();
});

test('notifier: a notification goes on every channel, its path put under console.public_url, with its own recipients', async () => {
  const clock = new FakeClock(T0);
  const sent: AlertMessage[] = [];
  const ch: AlertChannel = { name: 'email', target: 't', send: async (m) => void sent.push(m), close: () => {} };
  const settings: AlertSettings = {
    email: null,
    webhook: null,
    immediate: ['high'],
    grouper: { groupMs: 0, repeatMs: 60_000, maxPerHour: 5 },
    digest: null,
    timezone: 'Europe/London',
    publicUrl: 'https://filter.school.example',
    host: 'test',
  };
  const s = new AlertService(settings, { clock, log: pino({ level: 'silent' }), onResult: () => {}, channels: () => [ch] });
  assert.is(
    s.notify({
      subject: 'Permission request 12',
      text: 'Mr Jones asks for youtube for 9B',
      link: '/requests/12',
      to: ['head@school.example'],
    }),
    true,
  );
  await clock.advance(0);
  assert.equal(
    sent.map((m) => [m.type, m.subject, m.summary, m.link?.url, m.to]),
    [
      [
        'notice',
        'Permission request 12',
        'Mr Jones asks for youtube for 9B',
        'https://filter.school.example/requests/12',
        ['head@school.example'],
      ],
    ],
  );
  s.close();
  const none = new AlertService(settings, { clock, log: pino({ level: 'silent' }), onResult: () => {}, channels: () => [] });
  assert.is(none.notify({ subject: 'x', text: 'y' }), false, 'no channel: dropped, and the caller is told');
  none.close();
});

test.run();
