/**
 * The daily digest at a fake-clock time: the alerting service (as the alerting thread runs it)
 * with a real evidence store (SQLite, written through the storage seam) and a real SMTP server.
 * The clock is the only fake: the digest fires when the clock reaches 16:00 Europe/London.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { pino } from 'pino';
import { AlertService } from '../../src/alerts/alert-service.js';
import type { AlertSettings } from '../../src/alerts/alert-settings.js';
import { digestData } from '../../src/alerts/digest-data.js';
import { openStorage } from '../../src/storage/open.js';
import type { Rows, SignalRow, BlockedRow } from '../../src/storage/evidence.js';
import { tempDir } from '../helpers/daemon-process.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startSmtpServer } from '../helpers/smtp-server.js';

const DAY = Date.parse('2026-12-01T00:00:00Z'); // Tue 1 Dec 2026 (GMT)
const at = (hhmm: string, day = DAY) => day + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))) * 60_000;

function signal(ts: number, client: string, device: string, kind: string, count = 1): SignalRow {
  return {
    ts,
    client,
    device,
    grp: 'students',
    kind,
    severity: 'high',
    qname: `x.${kind}.example`,
    domain: `${kind}.example`,
    detail: 'd',
    count,
    user: '',
  };
}

function blocked(ts: number, grp: string, category: string): BlockedRow {
  return {
    ts,
    lastTs: ts,
    count: 1,
    joinMs: 0,
    client: '10.0.0.9',
    device: '',
    grp,
    qname: `www.${category}.com`,
    qtype: 'A',
    category,
    entry: `${category}.com`,
    response: 'NXDOMAIN',
    transport: 'udp',
    via: '',
    user: '',
  };
}

const rows = (r: Partial<Rows>): Rows => ({ blocked: [], signals: [], accessHourly: [], access: [], ...r });

test('the digest at 16:00 (fake clock) holds the day’s counts, unreviewed first; a quiet day says "nothing to report"', async () => {
  const smtp = await startSmtpServer();
  const dir = tempDir();
  const storage = openStorage({ evidencePath: path.join(dir, 'w.db'), accountsPath: path.join(dir, 'w-accounts.db') }, 'write');
  await storage.open();
  try {
    // Yesterday (not in today's digest, but still unreviewed) and today's evidence.
    await storage.evidence.write(rows({ signals: [signal(at('11:00', DAY - 86_400_000), '10.0.0.5', 'Y8-PC-01', 'vpn-proxy')] }));
    await storage.evidence.write(
      rows({
        signals: [
          signal(at('09:15'), '10.0.0.7', 'Y9-LT-07', 'vpn-proxy', 3),
          signal(at('10:40'), '10.0.0.7', 'Y9-LT-07', 'tunnel', 41),
          signal(at('13:05'), '10.0.0.8', 'Y10-LT-02', 'encrypted-dns'),
        ],
        blocked: [
          ...Array.from({ length: 12 }, (_, i) => blocked(at('09:00') + i * 1000, 'students', 'facebook')),
          ...Array.from({ length: 5 }, (_, i) => blocked(at('12:00') + i * 1000, 'staff', 'tiktok')),
          blocked(at('23:30', DAY - 86_400_000), 'students', 'facebook'),
        ],
      }),
    );
    const today = await storage.review.signals({ since: DAY, until: DAY + 86_400_000 });
    const y10 = today.find((s) => s.device === 'Y10-LT-02')!;
    await storage.signalReviews.review(
      y10.id,
      { outcome: 'false-positive', note: 'School-owned test laptop', by: 'oso.jones', at: at('14:00') },
      {
        ts: at('14:00'),
        actor: 'oso.jones',
        ip: 'cli',
        action: 'signal-review',
        target: `signal ${y10.id}`,
        detail: 'false-positive',
      },
    );
    await storage.exceptions.add(
      {
        targetKind: 'group',
        target: 'year9',
        categories: ['youtube'],
        domains: [],
        startsAt: at('10:00'),
        expiresAt: at('11:00'),
        reason: 'Assembly',
        approvedBy: 'Head',
      },
      { actor: 'ict', ip: 'cli', at: at('09:55'), recordedAs: 'ict' },
    );

    const clock = new FakeClock(at('15:59'));
    const settings: AlertSettings = {
      email: {
        url: `smtp://127.0.0.1:${smtp.port}`,
        requireTls: false,
        from: 'webfilter@school.example',
        to: ['dsl@school.example'],
      },
      webhook: null,
      immediate: ['high'],
      grouper: { groupMs: 20_000, repeatMs: 1_800_000, maxPerHour: 20 },
      digest: { at: '16:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], to: ['oso@school.example'] },
      timezone: 'Europe/London',
      publicUrl: 'https://filter.school.example',
      host: 'test',
    };
    const sentDays: number[] = [];
    const service = new AlertService(settings, {
      clock,
      log: pino({ level: 'silent' }),
      onResult: () => {},
      digestSource: (s, e) => digestData(storage, s, e),
      onDigest: (d) => sentDays.push(d),
    });
    service.scheduleDigest(null);
    await clock.advance(59_000);
    assert.is(sentDays.length, 0, 'not before 16:00');
    await clock.advance(1_000);
    const [m] = await smtp.waitForMessages(1);
    assert.equal(m.to, ['oso@school.example'], 'digest.to');
    assert.is(m.subject, 'webfilter daily digest, Tue, 1 Dec 2026: 3 signals, 2 unreviewed');
    const t = m.text.replace(/\r\n/g, '\n');
    assert.match(
      t,
      '3 circumvention signals from 2 devices (2 not yet reviewed), 17 blocked attempts, 1 exception granted and 1 ended',
    );
    // Unreviewed first, by device, then the reviewed one with its outcome.
    const iOpen = t.indexOf('Not yet reviewed (2 today)');
    const iDone = t.indexOf('Reviewed (1)');
    assert.ok(iOpen >= 0 && iDone > iOpen, t);
    assert.match(
      t.slice(iOpen, iDone),
      /Y9-LT-07 \(10\.0\.0\.7\), students: #\d+ vpn-proxy \(high\) ×3 09:15–09:15; #\d+ tunnel \(high\) ×41 10:40–10:40/,
    );
    assert.match(t.slice(iOpen, iDone), '1 older signal from before today still unreviewed');
    assert.match(t.slice(iDone), /Y10-LT-02 .*encrypted-dns .* — false-positive \(oso\.jones\)/);
    assert.match(t, /students \/ facebook: +12/);
    assert.match(t, /staff \/ tiktok: +5/);
    assert.match(t, /Exceptions granted\n +#1 youtube for group year9, approved by Head \(from 10:00\)/);
    assert.match(t, /Exceptions ended\n +#1 youtube for group year9, approved by Head \(ended 11:00\)/);
    assert.match(t, 'https://filter.school.example/signals?since=24h');
    assert.not.match(t, 'School-owned test laptop', 'notes stay in the console');
    assert.match(m.html, 'Not yet reviewed (2 today)');

    // The next day has no evidence: the digest still comes, saying so.
    await clock.advance(86_400_000);
    const msgs = await smtp.waitForMessages(2);
    assert.is(msgs[1].subject, 'webfilter daily digest, Wed, 2 Dec 2026: 0 signals, 0 unreviewed');
    assert.match(msgs[1].text, '3 older signals from before today still unreviewed');
    service.close();

    // A school whose evidence is all reviewed and a quiet day: "nothing to report".
    for (const s of await storage.review.signals({ since: 0, until: Date.now() + 86_400_000, unreviewed: true }))
      await storage.signalReviews.review(
        s.id,
        { outcome: 'no-action', note: '', by: 'oso', at: at('17:00') },
        { ts: at('17:00'), actor: 'oso', ip: 'cli', action: 'signal-review', target: `signal ${s.id}`, detail: '' },
      );
    const quiet = new AlertService(settings, {
      clock,
      log: pino({ level: 'silent' }),
      onResult: () => {},
      digestSource: (s, e) => digestData(storage, s, e),
    });
    clock.t = at('15:00', DAY + 3 * 86_400_000);
    quiet.scheduleDigest(null);
    await clock.advance(3_600_000);
    const last = (await smtp.waitForMessages(3))[2];
    assert.is(last.subject, 'webfilter daily digest, Fri, 4 Dec 2026: nothing to report');
    assert.match(last.text, 'a day without one means something is wrong');
    quiet.close();
    assert.equal(
      sentDays.map((d) => new Date(d).toISOString()),
      ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    );
  } finally {
    await storage.close();
    await smtp.stop();
  }
});

test.run();
