/**
 * `npm run fuzz [-- --packets N --seconds S --seed X]`: the network fuzz harness from the command
 * line (default 1,000,000 packets or 10 minutes). Exits 1 on a crash, an unanswered probe or
 * unbounded memory growth.
 */
import { GROWTH_LIMIT_MB, runFuzz } from './harness.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name}: "${process.argv[i + 1]}" is not a positive number`);
    process.exit(2);
  }
  return v;
}

const packets = arg('packets', 1_000_000);
const seconds = arg('seconds', 600);
const seed = arg('seed', 1);
console.log(`fuzz: up to ${packets.toLocaleString('en-GB')} packets or ${seconds} s, seed ${seed}`);
const r = await runFuzz({ packets, seconds, seed, log: (l) => console.log(`  ${l}`) });
console.log(JSON.stringify(r, null, 2));
const problems = [
  ...(r.crashed ? [`crash: ${r.crashed}`] : []),
  ...r.probeFailures,
  ...(r.secondHalfGrowthMb > GROWTH_LIMIT_MB
    ? [`RSS grew ${r.secondHalfGrowthMb} MB over the second half (limit ${GROWTH_LIMIT_MB})`]
    : []),
];
console.log(
  `fuzz: ${(r.udpPackets + r.tcpFrames).toLocaleString('en-GB')} packets (${r.udpPackets.toLocaleString('en-GB')} UDP, ` +
    `${r.tcpFrames.toLocaleString('en-GB')} TCP frames on ${r.tcpConnections.toLocaleString('en-GB')} connections), ` +
    `${r.upstreamReplies.toLocaleString('en-GB')} hostile upstream replies, ${r.daemonAnswered.toLocaleString('en-GB')} answers sent, in ${r.seconds} s; ` +
    `RSS ${r.rssMb.start} → peak ${r.rssMb.peak} → end ${r.rssMb.end} MB; ${problems.length === 0 ? '0 crashes, all probes answered' : problems.join('; ')}`,
);
process.exit(problems.length === 0 ? 0 : 1);
