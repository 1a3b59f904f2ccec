import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Identity } from '../identity/identity-index.js';
import { QueryStats } from '../observe/query-stats.js';
import { UpstreamStats } from '../observe/upstream-stats.js';
import type { ExceptionRecord } from '../storage/exceptions.js';
import type { FromWorker, ToWorker, WorkerCounts } from './worker-messages.js';

/** How many DNS processes `server.workers` asks for ("auto": one per core). */
export function workerCount(setting: 'auto' | number): number {
  return setting === 'auto' ? Math.max(1, os.availableParallelism()) : setting;
}

/** How long a scrape waits for a worker's counts before using the ones it sent last. */
const COUNTS_WAIT_MS = 1000;
/** How long a reload or list update waits for every worker. */
const CHANGE_WAIT_MS = 120_000;
/** A worker that died is started again after this. */
const RESTART_MS = 1000;

export interface PoolHooks {
  /** A batch of encoded query events from a worker, for the evidence recorder. */
  onEvents(batch: { buffer: ArrayBuffer; count: number }): void;
  /** What a new worker is told at once: the exceptions in force (null: not read yet) and every identity mapping. */
  state(): { exceptions: ExceptionRecord[] | null; identities: Identity[] };
}

/** Every worker's counts added up (live ones as they answer now, exited ones as they last said). */
export interface PoolCounts {
  queries: QueryStats;
  upstreams: UpstreamStats;
  cacheEntries: number;
  cacheHits: number;
  cacheMisses: number;
  rateLimited: number;
  dropped: number;
  /** Answers sent by each worker index (a restarted worker's count goes on from its predecessor's). */
  workerAnswers: number[];
}

interface Member {
  worker: Worker;
  index: number;
  listening: boolean;
  /** The counts it sent last (a scrape's, or its final ones). */
  last: WorkerCounts | null;
}

interface Request {
  waiting: Set<Member>;
  replies: FromWorker[];
  resolve: (replies: FromWorker[]) => void;
}

/**
 * The DNS worker processes of `server.workers` > 1, seen from the primary: forks them (node:cluster,
 * which binds each listening address once in the primary and hands every worker the same socket, so
 * the kernel spreads queries over them), feeds their event batches to the recorder, tells them the
 * exceptions and identity mappings, relays reloads and list updates, sums their counts for the
 * metrics, restarts one that dies, and stops them (each drains and hands over its last events).
 */
export class WorkerPool {
  private readonly members = new Set<Member>();
  private readonly requests = new Map<number, Request>();
  private seq = 0;
  private stopping = false;
  /** Counts of workers that have exited, so totals never go backwards. */
  private readonly retired = {
    queries: new QueryStats(),
    upstreams: new UpstreamStats(),
    hits: 0,
    misses: 0,
    limited: 0,
    dropped: 0,
    answers: [] as number[],
  };
  /** Bound DNS addresses, as the first worker reported them. */
  addresses: string[] = [];

  private constructor(
    private readonly log: Logger,
    private readonly hooks: PoolHooks,
  ) {}

  /** Forks `n` workers and resolves once every one is listening; rejects (stopping them) if one fails. */
  static async start(n: number, log: Logger, hooks: PoolHooks): Promise<WorkerPool> {
    // Workers accept TCP connections themselves (no hand-off through the primary), and messages
    // carry typed arrays as bytes.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ serialization: 'advanced' });
    const pool = new WorkerPool(log, hooks);
    try {
      const started = Array.from({ length: n }, (_, i) => pool.fork(i));
      const addresses = await Promise.all(started);
      pool.addresses = addresses[0];
    } catch (e) {
      pool.stopping = true;
      pool.close();
      throw e;
    }
    return pool;
  }

  /** Live workers. */
  get size(): number {
    return this.members.size;
  }

  /** Sends a message to every live worker. */
  broadcast(m: ToWorker): void {
    for (const member of this.members) this.send(member, m);
  }

  /** Every worker re-reads config and lists; true when all of them applied it. */
  async reload(): Promise<boolean> {
    const replies = await this.ask((id) => ({ t: 'reload', id }), CHANGE_WAIT_MS);
    return replies.every((r) => r.t === 'done' && r.ok) && replies.length === this.listening().length;
  }

  /** Every worker recompiles with the subscribed lists' new copies. */
  async recompileLists(urls: string[]): Promise<boolean> {
    const replies = await this.ask((id) => ({ t: 'lists', id, urls }), CHANGE_WAIT_MS);
    return replies.every((r) => r.t === 'done' && r.ok);
  }

  /** The workers' counts added up, asked for now (a worker that does not answer in time counts as it last did). */
  async counts(): Promise<PoolCounts> {
    await this.ask((id) => ({ t: 'counts', id }), COUNTS_WAIT_MS); // each reply updates its worker's `last`
    const sum: PoolCounts = {
      queries: new QueryStats(),
      upstreams: new UpstreamStats(),
      cacheEntries: 0,
      cacheHits: this.retired.hits,
      cacheMisses: this.retired.misses,
      rateLimited: this.retired.limited,
      dropped: this.retired.dropped,
      workerAnswers: [...this.retired.answers],
    };
    sum.queries.add(this.retired.queries.snapshot());
    sum.upstreams.add(this.retired.upstreams.snapshot());
    for (const m of this.members) {
      const c = m.last;
      if (!c) continue;
      sum.queries.add(c.queries);
      sum.upstreams.add(c.upstreams);
      sum.cacheEntries += c.cacheEntries;
      sum.cacheHits += c.cacheHits;
      sum.cacheMisses += c.cacheMisses;
      sum.rateLimited += c.rateLimited;
      sum.dropped += c.dropped;
      sum.workerAnswers[m.index] = (sum.workerAnswers[m.index] ?? 0) + answers(c);
    }
    for (let i = 0; i < sum.workerAnswers.length; i++) sum.workerAnswers[i] ??= 0;
    return sum;
  }

  /** Asks every worker to stop: each stops taking queries, answers those in flight (up to `drainMs`), sends its last events and exits. */
  stopAccepting(drainMs = 2500): void {
    this.stopping = true;
    this.broadcast({ t: 'stop', drainMs });
  }

  /** Resolves when every worker has exited, or at `deadline` (epoch ms), killing those left. */
  async stopped(deadline: number): Promise<void> {
    while (this.members.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.close();
  }

  /** Kills any worker still running. */
  close(): void {
    this.stopping = true;
    for (const m of this.members) m.worker.process.kill('SIGKILL');
  }

  private listening(): Member[] {
    return [...this.members].filter((m) => m.listening);
  }

  private send(member: Member, m: ToWorker): void {
    if (member.worker.isConnected()) member.worker.send(m);
  }

  /** Sends each listening worker a request and collects the replies (those that arrive within `ms`). */
  private ask(make: (id: number) => ToWorker, ms: number): Promise<FromWorker[]> {
    const id = ++this.seq;
    const targets = this.listening();
    if (targets.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        this.requests.delete(id);
        resolve(request.replies);
      };
      const request: Request = { waiting: new Set(targets), replies: [], resolve: finish };
      this.requests.set(id, request);
      for (const m of targets) this.send(m, make(id));
    });
  }

  private reply(member: Member, id: number, m: FromWorker): void {
    const r = this.requests.get(id);
    if (!r || !r.waiting.delete(member)) return;
    r.replies.push(m);
    if (r.waiting.size === 0) r.resolve(r.replies);
  }

  /** Starts worker `index`; resolves with its bound addresses once it listens. */
  private fork(index: number): Promise<string[]> {
    const worker = cluster.fork({ WEBFILTER_WORKER: String(index) });
    const member: Member = { worker, index, listening: false, last: null };
    this.members.add(member);
    const state = this.hooks.state();
    if (state.exceptions) this.send(member, { t: 'exceptions', records: state.exceptions });
    if (state.identities.length > 0) this.send(member, { t: 'identities', all: state.identities });
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'events':
            this.hooks.onEvents(m);
            break;
          case 'listening':
            member.listening = true;
            resolve(m.addresses);
            break;
          case 'counts':
            member.last = m.counts;
            this.reply(member, m.id, m);
            break;
          case 'done':
            this.reply(member, m.id, m);
            break;
          case 'stopped':
            member.last = m.counts;
            break;
        }
      });
      worker.on('exit', (code, signal) => {
        this.members.delete(member);
        for (const r of this.requests.values()) if (r.waiting.delete(member) && r.waiting.size === 0) r.resolve(r.replies);
        this.retire(member);
        if (!member.listening) reject(new Error(`DNS worker ${index} exited (${signal ?? code}) before it was listening`));
        if (this.stopping) return;
        this.log.error({ worker: index, code, signal }, 'DNS worker exited: starting another');
        setTimeout(() => {
          if (this.stopping) return;
          this.fork(index).catch((e) => this.log.error({ worker: index, err: (e as Error).message }, 'DNS worker did not start'));
        }, RESTART_MS).unref();
      });
    });
  }

  private retire(member: Member): void {
    const c = member.last;
    if (!c) return;
    this.retired.answers[member.index] = (this.retired.answers[member.index] ?? 0) + answers(c);
    this.retired.queries.add(c.queries);
    this.retired.upstreams.add(c.upstreams);
    this.retired.hits += c.cacheHits;
    this.retired.misses += c.cacheMisses;
    this.retired.limited += c.rateLimited;
    this.retired.dropped += c.dropped;
  }
}

/** Answers a worker has sent (every group, every result). */
function answers(c: WorkerCounts): number {
  let n = 0;
  for (const [, g] of c.queries.groups) for (const v of g.responses) n += v;
  return n;
}
