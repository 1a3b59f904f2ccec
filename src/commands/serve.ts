import cluster from 'node:cluster';
import { ConfigError } from '../config/load.js';
import { runDnsWorker } from '../daemon/dns-worker.js';
import type { Daemon } from '../daemon/daemon.js';
import { startDaemon } from '../daemon/start.js';
import { createLogger } from '../log.js';

/**
 * `webfilter serve`: runs until SIGTERM/SIGINT; SIGHUP reloads config and lists. With server.workers > 1
 * this is also the entry point of each DNS worker process.
 */
export async function serve(configFile: string): Promise<void> {
  const log = createLogger();
  if (cluster.isWorker) {
    // One of the DNS processes of server.workers > 1 (started by the primary below).
    const wlog = log.child({ worker: Number(process.env.WEBFILTER_WORKER ?? cluster.worker!.id) });
    try {
      await runDnsWorker(configFile, wlog);
    } catch (e) {
      if (e instanceof ConfigError) wlog.fatal({ file: e.file, problems: e.problems }, 'DNS worker: invalid config');
      else wlog.fatal({ err: e }, 'DNS worker could not start');
      process.exit(1);
    }
    return;
  }
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ configFile, log });
  } catch (e) {
    if (e instanceof ConfigError) log.fatal({ file: e.file, problems: e.problems }, 'invalid config: not starting');
    else log.fatal({ err: e }, 'could not start');
    process.exit(1);
  }
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading');
    void daemon.reload();
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    // Whatever happens, be gone within 5 s of the signal.
    setTimeout(() => process.exit(0), 5000).unref();
    daemon.stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(0);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
