/**
 * The network fuzz harness: runs the real daemon (dist/cli.js) against a hostile fake upstream and
 * sends it mutated packets over UDP and TCP in batches. Between batches a probe query must be
 * answered (over UDP, and over TCP every few batches), the process must still be alive, and its RSS
 * is sampled. Bounded by packet count and by time. Used by `npm run fuzz` and by a 30-second test.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startDaemon, testConfig, LISTS } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { tcpQuery, udpQuery } from '../helpers/dns-client.js';
import { header, query } from '../helpers/wire-builder.js';
import { Mutator, prng } from './mutate.js';
import { parseExposition, type Sample } from '../helpers/prometheus-text.js';

const sampleSum = (samples: Sample[], name: string) => samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);

export interface FuzzOptions {
  /** Stop after this many packets (UDP datagrams + TCP frames)... */
  packets: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds: number;
  seed: number;
  /** Progress lines (one per ~10% of the run). */
  log?: (line: string) => void;
}

export interface FuzzResult {
  seed: number;
  udpPackets: number;
  tcpFrames: number;
  tcpConnections: number;
  upstreamReplies: number;
  /** Replies the daemon sent (webfilter_responses_total at the end): packets it parsed and answered. */
  daemonAnswered: number;
  batches: number;
  seconds: number;
  /** Probes not answered (each one is a failure). */
  probeFailures: string[];
  /** The daemon exited during the run (a crash). */
  crashed: string | null;
  rssMb: { start: number; quarter: number; half: number; peak: number; end: number };
  /** RSS growth over the second half of the run, MB: the "no unbounded growth" check. */
  secondHalfGrowthMb: number;
}

const BATCH = 2000;
/** Largest growth (MB) of RSS over the second half of a run still counted as bounded. */
export const GROWTH_LIMIT_MB = 64;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const mut = new Mutator(prng(opts.seed));
  let upstreamReplies = 0;
  const up = await startFakeUpstream((q) => {
    const r = mut.hostileReply(q);
    if (r === null) return null;
    upstreamReplies += r.length;
    return { raw: r };
  });
  const config = testConfig({
    upstreams: [up.port],
    timeoutMs: 200,
    database: 'queue_size: 20000',
    extra: 'cache: { max_entries: 5000 }',
  }).replace(
    '  allowed_clients:',
    '  tcp: { idle_timeout_ms: 1000, read_timeout_ms: 500, max_connections: 200, max_connections_per_client: 100 }\n  allowed_clients:',
  );
  const d = await startDaemon(config, LISTS);
  const pid = d.child.pid!;
  let crashed: string | null = null;
  d.child.once('exit', (code, signal) => (crashed = `daemon exited (code ${code}, signal ${signal})`));

  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind({ address: '127.0.0.10', port: 0 }, r));
  sock.on('message', () => {});
  const result: FuzzResult = {
    seed: opts.seed,
    udpPackets: 0,
    tcpFrames: 0,
    tcpConnections: 0,
    upstreamReplies: 0,
    daemonAnswered: 0,
    batches: 0,
    seconds: 0,
    probeFailures: [],
    crashed: null,
    rssMb: { start: rssMb(pid), quarter: 0, half: 0, peak: 0, end: 0 },
    secondHalfGrowthMb: 0,
  };
  const t0 = Date.now();
  const progress = () => Math.max((result.udpPackets + result.tcpFrames) / opts.packets, (Date.now() - t0) / 1000 / opts.seconds);
  let nextLog = 0.1;
  let tcpLength = 0;
  try {
    while (progress() < 1 && !crashed) {
      // UDP: 2,000 packets, 70% mutated, the rest plausible queries (which go upstream, to the hostile one).
      for (let i = 0; i < BATCH; i++) {
        const q = mut.validQuery();
        const pkt = mut.rand() < 0.7 ? mut.mutate(q) : q;
        sock.send(pkt, d.port, '127.0.0.1');
        if (i % 250 === 249) await sleep(4); // pace to what the daemon can take, so packets reach it
      }
      result.udpPackets += BATCH;
      // TCP: 20 connections with frames of every length in turn (0 included), pipelined frames and partial ones.
      result.tcpFrames += await tcpBatch(d.port, mut, () => tcpLength++ % 700, result);
      result.batches++;
      if (up.received.length > 10_000) up.received.length = 0;

      const probe = await udpQuery(d.port, query('probe.facebook.com'), { localAddress: '127.0.0.10', timeoutMs: 3000 });
      if (!probe || header(probe).rcode !== 3)
        result.probeFailures.push(`batch ${result.batches}: UDP probe ${probe ? `rcode ${header(probe).rcode}` : 'unanswered'}`);
      if (result.batches % 10 === 0) {
        const [t] = await tcpQuery(d.port, [query('probe.facebook.com')], { localAddress: '127.0.0.10', timeoutMs: 3000 });
        if (!t || header(t).rcode !== 3) result.probeFailures.push(`batch ${result.batches}: TCP probe unanswered`);
      }
      if (crashed) break;
      const rss = rssMb(pid);
      result.rssMb.peak = Math.max(result.rssMb.peak, rss);
      if (!result.rssMb.quarter && progress() >= 0.25) result.rssMb.quarter = rss;
      if (!result.rssMb.half && progress() >= 0.5) result.rssMb.half = rss;
      if (progress() >= nextLog) {
        opts.log?.(
          `${Math.round(progress() * 100)}%: ${result.udpPackets + result.tcpFrames} packets, RSS ${rss} MB, ${result.probeFailures.length} probe failures`,
        );
        nextLog += 0.1;
      }
    }
    if (!crashed) {
      result.rssMb.end = rssMb(pid);
      const text = await (await fetch(`http://${d.metrics}/metrics`)).text();
      result.daemonAnswered = sampleSum(parseExposition(text), 'webfilter_responses_total');
    }
  } finally {
    sock.close();
    result.seconds = Math.round((Date.now() - t0) / 100) / 10;
    result.crashed = crashed;
    result.upstreamReplies = upstreamReplies;
    if (!crashed) {
      const stopped = await d.stop();
      if (stopped.code !== 0) result.crashed = `exit code ${stopped.code} on SIGTERM`;
    }
    await up.close();
  }
  result.secondHalfGrowthMb = result.rssMb.end - (result.rssMb.half || result.rssMb.start);
  return result;
}

/** One round of TCP abuse; resolves with the number of frames (whole or partial) sent. */
async function tcpBatch(port: number, mut: Mutator, nextLength: () => number, result: FuzzResult): Promise<number> {
  let frames = 0;
  const conns: Promise<void>[] = [];
  for (let c = 0; c < 20; c++) {
    const chunks: Buffer[] = [];
    const kind = mut.int(4);
    if (kind === 0) {
      // A frame of the next length in turn, filled with a mutated query or junk.
      const len = nextLength();
      const body = Buffer.alloc(len);
      mut.mutate(mut.validQuery()).copy(body);
      chunks.push(Buffer.from([len >> 8, len & 0xff]), body);
      frames++;
    } else if (kind === 1) {
      // Several pipelined frames, some valid.
      for (let i = 0; i < 5; i++) {
        const q = mut.rand() < 0.5 ? mut.validQuery() : mut.mutate(mut.validQuery());
        chunks.push(Buffer.from([q.length >> 8, q.length & 0xff]), q);
        frames++;
      }
    } else if (kind === 2) {
      // A partial frame: the length says more than is sent, then the client goes away (or stalls).
      const q = mut.validQuery();
      chunks.push(Buffer.from([(q.length + 50) >> 8, (q.length + 50) & 0xff]), q.subarray(0, mut.int(q.length)));
      frames++;
    } else {
      // A lone byte, or a length of 0, or a huge length.
      chunks.push(mut.pick([Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([0xff, 0xff, 1, 2, 3])]));
      frames++;
    }
    conns.push(
      new Promise<void>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.10' });
        const done = () => (clearTimeout(t), s.destroy(), resolve());
        const t = setTimeout(done, 300);
        s.on('error', done);
        s.on('close', done);
        s.on('data', () => {});
        s.on('connect', () => {
          result.tcpConnections++;
          for (const ch of chunks) s.write(ch);
          if (mut.rand() < 0.5) s.end();
        });
      }),
    );
  }
  await Promise.all(conns);
  return frames;
}
