/**
 * In-process: counts in what the CLI and the daemon say are in the right number for 1 and for 0
 * ("1 row", not "1 rows"), and a list with nothing in it is not shown as empty parentheses:
 * `shared status`, the central retention's `maintenance` row, a shipment's error text (what
 * `could not ship …` says in the log and in `status`), `lists update` (and its refusal of a copy),
 * the audit's record of a name that is no account.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sharedStatusText } from '../../src/commands/shared.js';
import { describeOutcome, type UpdateOutcome } from '../../src/lists/update.js';
import { checkListBody } from '../../src/lists/sanity.js';
import { auditedName } from '../../src/accounts/sign-in-words.js';
import type { PostgresConnection } from '../../src/storage/postgres/connection.js';
import { PostgresEvidenceInbox } from '../../src/storage/postgres/evidence-inbox.js';
import { retentionText } from '../../src/storage/postgres/evidence-retention.js';
import type { SharedStatus } from '../../src/storage/shared.js';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);

test('shared status: "1 row waiting", and "0 rows" for another filter', () => {
  const status: SharedStatus = {
    target: 'webfilter@db:5432/webfilter',
    connected: true,
    error: null,
    serverVersion: '15.8',
    latencyMs: 1,
    schemaVersion: 5,
    codeSchemaVersion: 5,
    lastChange: 41,
    nodes: [
      { node: 'dns1', lastSeen: NOW, appliedChange: 41, lagChanges: 0, shipping: { at: NOW, backlogRows: 1, lagSeconds: 3 } },
      { node: 'dns2', lastSeen: NOW, appliedChange: 41, lagChanges: 0, shipping: { at: NOW, backlogRows: 0, lagSeconds: 0 } },
    ],
  };
  const text = sharedStatusText(status, 'carres-grammar', 'dns1', { rows: 1, lagSeconds: 190 });
  assert.match(text, /evidence of this filter: 1 row waiting, oldest change 3m ago\n/);
  assert.match(text, /filter dns1: .*; evidence: 1 row waiting, lag 3 s/);
  assert.match(text, /filter dns2: .*; evidence: 0 rows waiting, lag 0 s/);
  assert.match(sharedStatusText(status, 's', 'dns1', { rows: 1204, lagSeconds: 190 }), /1204 rows waiting/);
});

test('the central retention’s record: one partition, none (no empty parentheses), one row', () => {
  assert.is(
    retentionText({ droppedPartitions: ['blocked_p202509'], deletedRows: 1 }),
    'dropped 1 partition (blocked_p202509), deleted 1 row',
  );
  assert.is(retentionText({ droppedPartitions: [], deletedRows: 0 }), 'dropped no partitions, deleted 0 rows');
  assert.is(
    retentionText({ droppedPartitions: ['blocked_p202509', 'signals_p202509'], deletedRows: 5000 }),
    'dropped 2 partitions (blocked_p202509, signals_p202509), deleted 5000 rows',
  );
});

test('a shipment names its rows in the right number (the text of "could not ship …" when PostgreSQL is away)', async () => {
  const said: string[] = [];
  const conn = {
    transaction: async (what: string) => {
      said.push(what);
    },
  } as unknown as PostgresConnection;
  const inbox = new PostgresEvidenceInbox(conn, 'carres-grammar', 'dns1');
  const row = { local_id: 1, ts: NOW, actor: 'a', ip: 'cli', action: 'view', target: 't', detail: '' };
  await inbox.upsert({ table: 'access_audit', rows: [row] } as never);
  await inbox.upsert({ table: 'access_audit', rows: [row, { ...row, local_id: 2 }] } as never);
  assert.equal(said, ['ship 1 access_audit row', 'ship 2 access_audit rows']);
});

test('lists update: "1 entry"', () => {
  const o = {
    url: 'https://lists.example/iwf.txt',
    result: 'updated',
    entries: 1,
    added: 1,
    removed: 0,
    error: null,
    problems: [],
    state: { body: true },
  } as unknown as UpdateOutcome;
  assert.match(describeOutcome(o), /: updated, \+1 −0 \(1 entry\)$/);
  assert.match(describeOutcome({ ...o, result: 'unchanged' }), /: no change \(1 entry\)$/);
  assert.match(describeOutcome({ ...o, result: 'error', error: 'HTTP 500' }), /keeping the last good copy \(1 entry\)$/);
  assert.match(describeOutcome({ ...o, entries: 0, result: 'unchanged' }), /\(0 entries\)$/);
});

test('a fetched list with no entries and one bad line; a one-letter name typed at sign-in', () => {
  const refused = checkListBody('this is not a list line at all\n', 'https://lists.example/x.txt', 'text/plain');
  assert.equal(refused, { ok: false, reason: 'no list entries in it (1 unreadable line)' });
  assert.match(auditedName('x', false), /^unknown #[0-9a-f]{6} \(1 char\)$/);
  assert.match(auditedName('xy', false), /\(2 chars\)$/);
});

test.run();
