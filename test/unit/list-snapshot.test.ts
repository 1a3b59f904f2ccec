/** The list texts kept for a reload's fallback: deflated after load, and the fallback still works. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { compilePolicy } from '../../src/policy/compile.js';
import { ListSnapshot } from '../../src/policy/list-snapshot.js';
import { tempDir } from '../helpers/daemon-process.js';

test('a large list is deflated, the read bytes let go, and it reads back exactly', async () => {
  const text = 'bücher.example\n' + 'x.example\n'.repeat(50_000);
  const read = Buffer.from(text, 'utf8');
  const snap = new ListSnapshot(read);
  await snap.pack();
  assert.ok(snap.isPacked, 'only the deflated copy is held');
  assert.is(read.buffer.byteLength, 0, 'the read bytes are released (detached), not left for a full collection');
  assert.is(snap.bytes.toString('utf8'), text);
});

test('a small list is kept as it is', async () => {
  const snap = new ListSnapshot(Buffer.from('facebook.com\n'));
  await snap.pack();
  assert.not.ok(snap.isPacked);
  assert.is(snap.bytes.toString(), 'facebook.com\n');
});

test('reload fallback: an unreadable list keeps its previous entries from the deflated copy', async () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `site${i}.example`).join('\n') + '\n';
  const dir = tempDir({
    'big.txt': lines,
    'fb.txt': 'facebook.com\n',
    'c.yaml': `upstream: { servers: ["192.0.2.1"] }
categories: { big: [big.txt], facebook: [fb.txt] }
groups: { default: { block: [big, facebook] } }
`,
  });
  const loaded = await loadConfig(path.join(dir, 'c.yaml'));
  const first = await compilePolicy(loaded);
  const snap = first.snapshots.get(loaded.categoryFiles.get('big')![0])!;
  await snap.pack();
  assert.ok(snap.isPacked, 'deflated after the load');

  rmSync(path.join(dir, 'big.txt'));
  const second = await compilePolicy(loaded, first.snapshots);
  const big = second.reports.find((r) => r.category === 'big')!;
  assert.is(big.unreadable.length, 1);
  assert.ok(big.unreadable[0].keptPrevious);
  assert.is(big.entries, 20_000);
  const g = second.policy.groups.get('default')!;
  assert.is(second.policy.decide(g, 'www.site19999.example').action, 'block');
  assert.is(second.policy.decide(g, 'site20000.example').action, 'allow');
});

test.run();
