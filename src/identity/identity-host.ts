import type http from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseHostPort } from '../config/host-port.js';
import type { LoadedConfig } from '../config/load.js';
import { parseDuration } from '../time/duration.js';
import { IdentityFeed } from './feed.js';
import { readFeedToken, readNasClients } from './identity-files.js';
import type { IdentityIndex } from './identity-index.js';
import { registerIdentityMetrics } from './identity-metrics.js';
import { IdentityService, type IdentitySettings } from './identity-service.js';
import { RadiusHost } from './radius-host.js';

/**
 * The identity parts as the daemon sees them: the service keeping the index the client stage
 * reads, the RADIUS accounting listener (its own thread), and the feed's `POST /identity` handler
 * (mounted on the metrics listener). Secret files are read at start, before privileges are dropped,
 * and again on reload (a file the service user cannot read then keeps the secrets in force).
 */
export class IdentityHost {
  readonly service: IdentityService;
  readonly feed: IdentityFeed;
  private radius: RadiusHost | null = null;
  private loaded!: LoadedConfig;
  private token: Buffer | null = null;

  constructor(
    now: () => number,
    private readonly log: Logger,
  ) {
    this.service = new IdentityService({ defaultTtlMs: 12 * 3_600_000, groups: new Set() }, now, log);
    this.feed = new IdentityFeed({
      token: () => this.token,
      requestsPerMinute: () => this.loaded.config.identity.feed.requests_per_minute,
      maxTtlMs: () => parseDuration(this.loaded.config.identity.max_ttl),
      apply: (items, reporter) => {
        this.service.applyFeed(items, reporter);
        log.debug({ from: reporter, mappings: items.length }, 'identity feed: mappings received');
      },
      now,
    });
  }

  /** The index the client stage reads. */
  get index(): IdentityIndex {
    return this.service.index;
  }

  /** Routes for the metrics listener: `POST /identity`. */
  get routes(): Record<string, http.RequestListener> {
    return { '/identity': this.feed.handle };
  }

  /** Where RADIUS accounting is received, or [] when it is off. */
  get radiusAddresses(): string[] {
    return this.radius?.addresses ?? [];
  }

  registerMetrics(registry: Registry): void {
    registerIdentityMetrics(registry, {
      mappings: () => this.service.counts,
      radius: () => this.radius?.counts ?? null,
      feed: () => this.feed.counts,
    });
  }

  /** Reads the secrets and binds the RADIUS listener. Throws with a message naming the config key. */
  async start(loaded: LoadedConfig): Promise<void> {
    this.loaded = loaded;
    const warn = (msg: string) => this.log.warn(msg);
    const { identity } = loaded.config;
    this.service.configure(settings(loaded));
    this.token = await readFeedToken(loaded.config, loaded.file, warn);
    if (identity.radius_accounting) {
      const clients = await readNasClients(loaded.config, loaded.file, warn);
      this.radius = await RadiusHost.start(
        {
          listen: identity.radius_accounting.listen.map((l) => parseHostPort(l, 1813)),
          clients,
          groupAttribute: identity.group_attribute,
        },
        (records) => this.service.applyAccounting(records),
        this.log,
      );
    }
    this.service.start();
  }

  /** Applies a reloaded config: group names, TTLs, secrets, token (listen addresses need a restart). */
  async reconfigure(loaded: LoadedConfig): Promise<void> {
    const old = this.loaded.config.identity;
    this.loaded = loaded;
    const { identity } = loaded.config;
    this.service.configure(settings(loaded));
    const warn = (msg: string) => this.log.warn(msg);
    try {
      this.token = await readFeedToken(loaded.config, loaded.file, warn);
    } catch (e) {
      this.log.error({ error: (e as Error).message }, 'reload: keeping the identity feed token in force');
    }
    if (JSON.stringify(old.radius_accounting?.listen) !== JSON.stringify(identity.radius_accounting?.listen))
      this.log.warn('identity.radius_accounting changed listen addresses: restart the daemon to apply it');
    if (this.radius && identity.radius_accounting) {
      try {
        this.radius.configure(await readNasClients(loaded.config, loaded.file, warn), identity.group_attribute);
      } catch (e) {
        this.log.error({ error: (e as Error).message }, 'reload: keeping the RADIUS secrets in force');
      }
    }
  }

  async close(): Promise<void> {
    this.service.stop();
    await this.radius?.close();
  }
}

function settings(loaded: LoadedConfig): IdentitySettings {
  return {
    defaultTtlMs: parseDuration(loaded.config.identity.default_ttl),
    groups: new Set(Object.keys(loaded.config.groups)),
  };
}
