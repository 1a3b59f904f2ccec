/** The network fuzz harness for 30 seconds (the full run, ≥ 1,000,000 packets, is `npm run fuzz`). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GROWTH_LIMIT_MB, runFuzz } from '../fuzz/harness.js';

test('30 s of mutated UDP/TCP packets and hostile upstream replies: no crash, every probe answered, memory bounded', async () => {
  const r = await runFuzz({ packets: 10_000_000, seconds: 30, seed: 20261124 });
  assert.is(r.crashed, null);
  assert.equal(r.probeFailures, []);
  assert.ok(r.udpPackets >= 20_000, `${r.udpPackets} UDP packets sent`);
  assert.ok(r.tcpFrames > 0 && r.upstreamReplies > 0);
  assert.ok(
    r.daemonAnswered > r.udpPackets / 10,
    `the daemon answered ${r.daemonAnswered} of them (the rest were dropped as unreadable)`,
  );
  assert.ok(r.secondHalfGrowthMb <= GROWTH_LIMIT_MB, `RSS grew ${r.secondHalfGrowthMb} MB over the second half`);
});

test.run();
