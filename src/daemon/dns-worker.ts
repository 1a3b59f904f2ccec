import type { Logger } from 'pino';
import { AnswerCache } from '../cache/answer-cache.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { ExceptionSet } from '../exceptions/exception-set.js';
import { parseAddressKey } from '../identity/address-key.js';
import { IdentityIndex } from '../identity/identity-index.js';
import { QueryStats } from '../observe/query-stats.js';
import { UpstreamStats } from '../observe/upstream-stats.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import { dropPrivileges } from '../server/privileges.js';
import { QueryEdge } from '../server/query-edge.js';
import { RateLimiter } from '../server/rate-limiter.js';
import { useTimezone } from '../time/zone.js';
import { UdpExchange } from '../upstream/udp-exchange.js';
import { UpstreamTransports } from '../upstream/transports.js';
import { upstreamsChanged } from './changes.js';
import { Listeners, tcpLimitsOf } from './listeners.js';
import { buildRuntime, type Shared } from './runtime.js';
import { RuntimeSwitch } from './runtime-switch.js';
import { WorkerEvents } from './worker-events.js';
import type { FromWorker, ToWorker, WorkerCounts } from './worker-messages.js';

/** How often the clients over their rate limit are logged. */
const RATE_LOG_MS = 60_000;
/** How often lapsed identity mappings are dropped from this worker's copy (they are invisible at once). */
const SWEEP_MS = 60_000;

/**
 * One DNS process of `server.workers` > 1 (a node:cluster worker): loads and compiles the config
 * itself, answers queries on the listening sockets it shares with the other workers (the primary
 * holds them), and keeps its own answer cache and rate-limit buckets. Everything else is the
 * primary's: answered queries go to it as encoded event batches for the one evidence writer, it
 * sends the exceptions in force and the identity mappings, forwards SIGHUP as `reload`, asks for the
 * counts at each scrape, and `stop`s the worker (which drains, hands over its last events and
 * exits). A worker whose primary has gone exits too.
 */
export async function runDnsWorker(configFile: string, log: Logger): Promise<void> {
  const send = (m: FromWorker, done: () => void = () => {}) => {
    if (!process.connected) return done();
    process.send!(m, undefined, {}, () => done());
  };
  // Messages may arrive while the policy compiles: exceptions and identities are applied at once.
  const exceptions = { current: ExceptionSet.EMPTY };
  const identities = new IdentityIndex();
  const early: ToWorker[] = [];
  let handle = (m: ToWorker) => void early.push(m);
  process.on('message', (m: ToWorker) => {
    if (m.t === 'exceptions') exceptions.current = new ExceptionSet(m.records);
    else if (m.t === 'identities') {
      identities.removeWhere(() => true);
      for (const id of m.all) identities.set(parseAddressKey(id.address), id);
    } else if (m.t === 'identity-changes') {
      for (const c of m.changes) {
        if (c.op === 'set') identities.set(parseAddressKey(c.identity.address), c.identity);
        else identities.delete(parseAddressKey(c.address));
      }
    } else handle(m);
  });
  // The primary is gone (crashed or killed): nobody would write this worker's evidence.
  process.on('disconnect', () => process.exit(0));
  // SIGHUP and SIGTERM go to the primary, which tells each worker; a signal to the whole group
  // (systemd's stop, ^C) must not stop a worker before the primary asks it to drain.
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});

  const loaded = await loadConfig(configFile);
  useTimezone(loaded.config.timezone);
  const compiled = await compilePolicy(loaded);
  log.level = loaded.config.log.level;
  // Lists are reported (logged, counted) once, by the primary, which compiles the same config.
  const quiet = log.child({}, { level: 'warn' });

  const cache = new AnswerCache({
    maxEntries: loaded.config.cache.max_entries,
    maxTtl: loaded.config.cache.max_ttl,
    maxNegativeTtl: loaded.config.cache.max_negative_ttl,
  });
  const queryStats = new QueryStats();
  const upstreamStats = new UpstreamStats();
  const limiter = new RateLimiter(loaded.config.server.rate_limit);
  const { database } = loaded.config;
  const events = new WorkerEvents(send, {
    queueSize: database.queue_size,
    batchRows: database.batch_rows,
    flushMs: database.flush_ms,
  });
  const shared: Shared = {
    cache,
    transports: new UpstreamTransports(new UdpExchange()),
    onExchange: (upstream, outcome, seconds) => upstreamStats.exchange(upstream, outcome, seconds),
    exceptions,
    now: Date.now,
    identities,
  };
  const first = buildRuntime(loaded, compiled, shared);
  const edge = new QueryEdge(first.chain, queryStats, events, log, limiter);
  const runtimes = new RuntimeSwitch(first, shared, edge, { onLists: () => {} }, quiet);
  const limitLog = setInterval(() => {
    const top = limiter.takeOffenders();
    if (top.length > 0) log.warn({ clients: top }, 'rate limit: clients over their limit in the last minute');
  }, RATE_LOG_MS);
  limitLog.unref();
  const sweep = setInterval(() => identities.removeWhere((id) => id.expires <= Date.now()), SWEEP_MS);
  sweep.unref();

  const listeners = await Listeners.bind(
    // Each worker asks to bind what the config says (port 0 too): node:cluster's primary binds each
    // address once and hands every worker the same socket.
    loaded.listen,
    edge,
    tcpLimitsOf(() => runtimes.current.loaded.config.server),
    {
      admit: (address) => runtimes.current.directory.resolve(address).allowed,
      rejected: queryStats.onTcpRejected,
    },
    log,
  );
  dropPrivileges(loaded.config.server);

  const counts = (): WorkerCounts => ({
    queries: queryStats.snapshot(),
    upstreams: upstreamStats.snapshot(),
    cacheEntries: cache.size,
    cacheHits: cache.hits,
    cacheMisses: cache.misses,
    rateLimited: limiter.limited,
    dropped: events.dropped,
    inFlight: edge.inFlight,
  });

  /** The DNS side of a reload (the primary does the rest): as Daemon.reload does in one process. */
  const reload = () =>
    runtimes.serially(async () => {
      const old = runtimes.current;
      let next: LoadedConfig;
      let policy: CompiledPolicy;
      try {
        next = await loadConfig(configFile, { requireLists: false });
        policy = await compilePolicy(next, old.compiled.snapshots);
      } catch (e) {
        const problems = e instanceof ConfigError ? e.problems : [(e as Error).message];
        log.error({ problems }, 'DNS worker: reload rejected, keeping the previous config');
        return false;
      }
      if (old.loaded.config.timezone !== next.config.timezone) useTimezone(next.config.timezone);
      if (upstreamsChanged(old.loaded, next)) cache.clear();
      runtimes.swap(next, policy);
      limiter.configure(next.config.server.rate_limit);
      log.level = next.config.log.level;
      return true;
    });

  let stopping = false;
  const stop = async (drainMs: number) => {
    if (stopping) return;
    stopping = true;
    runtimes.stop();
    listeners.stopAccepting();
    const deadline = Date.now() + drainMs;
    while (edge.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await events.close();
    clearInterval(limitLog);
    clearInterval(sweep);
    await new Promise<void>((r) => send({ t: 'stopped', counts: counts() }, r));
    listeners.close();
    shared.transports.close();
    process.disconnect();
  };

  handle = (m: ToWorker) => {
    switch (m.t) {
      case 'reload':
        void reload().then((ok) => send({ t: 'done', id: m.id, ok }));
        break;
      case 'lists':
        void runtimes.recompileLists(m.urls).then((ok) => send({ t: 'done', id: m.id, ok }));
        break;
      case 'counts':
        send({ t: 'counts', id: m.id, counts: counts() });
        break;
      case 'stop':
        void stop(m.drainMs);
        break;
    }
  };
  for (const m of early.splice(0)) handle(m);
  send({ t: 'listening', addresses: listeners.addresses });
}
