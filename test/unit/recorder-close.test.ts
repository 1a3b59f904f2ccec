/** The evidence recorder's stop: what it could not hand over or get written is counted, never hidden. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.js';
import { EventEncoder } from '../../src/evidence/event-codec.js';
import { EvidenceRecorder } from '../../src/evidence/recorder.js';
import { openStorage } from '../../src/storage/open.js';
import { blockedEvent } from '../helpers/query-events.js';
import { tempDir } from '../helpers/daemon-process.js';
import { until } from '../helpers/wait.js';

const event = (at: number, qname: string) => blockedEvent(at, { qname });

/** An evidence file with its schema, locked by another connection (`BEGIN EXCLUSIVE`) until the test lets go. */
async function lockedStore(): Promise<{ file: string; holder: Database.Database }> {
  const file = path.join(tempDir(), 'e.db');
  const store = openStorage({ evidencePath: file, accountsPath: accountsOf(file) }, 'write');
  await store.open();
  await store.close();
  const holder = new Database(file);
  holder.exec('BEGIN EXCLUSIVE');
  return { file, holder };
}

const accountsOf = (file: string) => file.replace(/\.db$/, '-accounts.db');

/** A recorder of that file, batches of 10, retention never due. */
function recorder(file: string): EvidenceRecorder {
  return new EvidenceRecorder({
    init: {
      storage: { evidencePath: file, accountsPath: accountsOf(file) },
      processor: {
        access: 'aggregate',
        circumvention: configSchema.parse({ groups: { default: {} } }).circumvention,
        collapseMs: 60_000,
      },
      devices: { names: {}, leases: null, ptr: null },
      version: 'test',
      pid: process.pid,
      startedAt: Date.now(),
    },
    queueSize: 1000,
    batchRows: 10,
    flushMs: 20,
    retention: { blocked_days: 30, signals_days: 30, access_days: 30, schedule: '0 0 1 1 *' },
    log: pino({ level: 'silent' }),
    onSignals: () => {},
    onStoreState: () => {},
  });
}

test('a stop whose deadline passes while the writer holds a batch counts that batch as unwritten', async () => {
  // Another connection holds the database: the writer's first write waits (busy timeout 5 s),
  // synchronously, so it cannot answer the stop before the deadline.
  const { file, holder } = await lockedStore();
  const rec = recorder(file);
  try {
    const enc = new EventEncoder();
    for (let i = 0; i < 10; i++) enc.add(event(Date.now(), `n${i}.instagram.com`));
    rec.addBatch(enc.take());
    rec.open();
    await until(() => rec.depth === 0, 'the batch handed to the writer');
    // The lock is let go soon after the deadline, so that the writer's blocked statement returns
    // normally before its thread is terminated (better-sqlite3 aborts the process if a statement
    // fails while its thread is being terminated).
    const release = setTimeout(() => holder.exec('ROLLBACK'), 800);
    const unwritten = await rec.close(Date.now() + 300);
    clearTimeout(release);
    assert.is(unwritten, 10, 'the ten events the writer never acknowledged');
  } finally {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
  }
});

test('batches that waited go to the writer together (one transaction), and every event is written once', async () => {
  // The writer's first write waits on another connection's lock, so what it was handed stays handed.
  const { file, holder } = await lockedStore();
  const rec = recorder(file);
  try {
    for (let b = 0; b < 12; b++) {
      const enc = new EventEncoder();
      for (let i = 0; i < 10; i++) enc.add(event(Date.now(), `n${b}-${i}.instagram.com`));
      rec.addBatch(enc.take());
    }
    assert.is(rec.depth, 120);
    rec.open();
    await until(() => rec.depth < 120, 'batches handed to the writer');
    // Eight of the twelve waiting batches went as one message; the other four wait for it.
    const waiting = rec.depth;
    holder.exec('ROLLBACK');
    assert.is(await rec.close(Date.now() + 20_000), 0, 'nothing unwritten');
    assert.is(waiting, 40, 'events still waiting while the writer held the first message');
  } finally {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
    await rec.close(Date.now() + 5_000);
  }
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT qname, count FROM blocked').all() as { qname: string; count: number }[];
  db.close();
  assert.is(rows.length, 120);
  assert.is(new Set(rows.map((r) => r.qname)).size, 120);
  assert.ok(rows.every((r) => r.count === 1));
});

test.run();
