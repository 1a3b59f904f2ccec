import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { displayUrl } from '../lists/source.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import type { QueryEdge } from '../server/query-edge.js';
import { reportLists } from './policy-report.js';
import { buildRuntime, type Runtime, type Shared } from './runtime.js';

/**
 * Holds the Runtime serving queries and swaps in new ones whole (queries in flight finish on the
 * one they started on). Changes — reloads and new copies of subscribed lists — run one at a time.
 */
export class RuntimeSwitch {
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private runtime: Runtime,
    private readonly shared: Shared,
    private readonly edge: QueryEdge,
    private readonly metrics: Pick<DaemonMetrics, 'onLists'>,
    private readonly log: Logger,
  ) {}

  /** The runtime serving queries now. */
  get current(): Runtime {
    return this.runtime;
  }

  /** Runs `change` after every change queued before it (whether those succeeded or not). */
  serially<T>(change: () => Promise<T>): Promise<T> {
    const next = this.queue.then(change, change);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Builds the runtime of a config and its compiled policy and puts it in service. */
  swap(loaded: LoadedConfig, compiled: CompiledPolicy): void {
    this.runtime = buildRuntime(loaded, compiled, this.shared);
    this.edge.setChain(this.runtime.chain);
    // Encrypted upstreams the new config no longer names are disconnected.
    this.shared.transports.retain(this.runtime.transports);
  }

  /** Takes no more list updates (the daemon is stopping). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Compiles the current config with the subscribed lists' newly stored copies and swaps the
   * policy in, as a reload does. On failure the running policy stays.
   */
  recompileLists(urls: string[]): Promise<boolean> {
    return this.serially(async () => {
      if (this.stopped) return false;
      const loaded = this.runtime.loaded;
      let compiled: CompiledPolicy;
      try {
        compiled = await compilePolicy(loaded, this.runtime.compiled.snapshots);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'new list copies not applied: keeping the running policy');
        return false;
      }
      reportLists(compiled, this.log, this.metrics);
      this.swap(loaded, compiled);
      this.log.info({ urls: urls.map(displayUrl) }, 'lists updated: new policy in use');
      return true;
    });
  }
}
