/**
 * The shipper's pacing (no database): kicks after written batches start a pass at most once per
 * `minGapMs`, so a row changed again and again between two passes is shipped once; while the shared
 * store fails, only the timer retries.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EvidenceShipper } from '../../src/evidence/shipper.js';
import { zeroCursors, type ShipBatch, type ShipTable, type ShippingStores } from '../../src/storage/shipping.js';
import { until } from '../helpers/wait.js';

/** One local row (blocked, local id 1) whose change counter moves with every repeat. */
function stores(fail = () => false) {
  const s = { seq: 1, upserts: [] as ShipBatch[], cursors: zeroCursors(), attempts: 0 };
  const shipping: ShippingStores = {
    outbox: {
      after: (table: ShipTable, cursor: number) =>
        table === 'blocked' && s.seq > cursor
          ? { table, rows: [{ local_id: 1, count: s.seq }], last: s.seq }
          : { table, rows: [], last: cursor },
      backlog: (c) => ({ rows: s.seq > c.blocked ? 1 : 0, oldest: null }),
      unshippedBefore: () => 0,
    },
    cursors: { values: () => ({ ...s.cursors }), advance: (t, v) => (s.cursors[t] = v) },
    inbox: {
      upsert: async (b) => {
        s.attempts++;
        if (fail()) throw new Error('unreachable');
        s.upserts.push(b);
      },
      report: async () => {},
    },
  };
  return { s, shipping };
}

const shipper = (shipping: ShippingStores, minGapMs: number, intervalMs = 60_000) =>
  new EvidenceShipper({
    stores: shipping,
    version: 't',
    batchRows: 1000,
    intervalMs,
    minGapMs,
    reportMs: 60_000,
    onState: () => {},
    onLost: () => {},
  });

test('a row counted 20 times between two passes is shipped once more, not 20 times', async () => {
  const { s, shipping } = stores();
  const sh = shipper(shipping, 400);
  sh.start();
  await until(() => s.upserts.length === 1, 'the first pass');
  for (let i = 0; i < 20; i++) {
    s.seq++;
    sh.kick();
    await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => s.cursors.blocked === s.seq, 'the repeats shipped');
  await sh.close();
  assert.is(s.upserts.length, 2, `passes with rows: ${s.upserts.map((b) => b.last).join(', ')}`);
  assert.is(s.upserts[1].rows[0].count, 21, 'the latest count');
});

test('while the store fails, written batches do not retry it: the timer does', async () => {
  let failing = true;
  const { s, shipping } = stores(() => failing);
  const sh = shipper(shipping, 0, 300);
  sh.start();
  await until(() => s.attempts === 1, 'the first attempt');
  for (let i = 0; i < 20; i++) sh.kick();
  await new Promise((r) => setTimeout(r, 100));
  assert.is(s.attempts, 1, 'no attempt per written batch');
  failing = false;
  await until(() => s.cursors.blocked === 1, 'shipped by the timer once the store answers', 5000);
  await sh.close();
});

test.run();
