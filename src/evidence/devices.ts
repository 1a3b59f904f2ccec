import { readFileSync, statSync } from 'node:fs';
import { parseDnsmasqLeases, parseIscLeases, type Lease } from './leases.js';

export interface DeviceConfig {
  /** IP or MAC (any case) → name. */
  names: Record<string, string>;
  leases: { file: string; format: 'dnsmasq' | 'isc' } | null;
}

/** How often the leases file's modification time is checked. */
const LEASES_CHECK_MS = 5000;

/**
 * Names the device behind an address at the time of the query: a configured name for its IP, else a
 * configured name for its MAC (from the DHCP leases), else the DHCP hostname, else "".
 * The leases file is re-read when its modification time changes; a read error keeps the last copy.
 */
export class DeviceNames {
  private readonly byKey = new Map<string, string>();
  private leases = new Map<string, Lease>();
  private leasesMtime = -1;
  private lastCheck = -Infinity;
  /** The last error reading the leases file, or null. */
  leasesError: string | null = null;

  constructor(
    private readonly cfg: DeviceConfig,
    private readonly now: () => number = Date.now,
  ) {
    for (const [k, v] of Object.entries(cfg.names)) this.byKey.set(k.toLowerCase(), v);
    this.refresh(true);
  }

  name(address: string): string {
    const direct = this.byKey.get(address);
    if (direct !== undefined) return direct;
    if (!this.cfg.leases) return '';
    this.refresh(false);
    const lease = this.leases.get(address);
    if (!lease) return '';
    return this.byKey.get(lease.mac) ?? lease.hostname;
  }

  private refresh(force: boolean): void {
    if (!this.cfg.leases) return;
    const t = this.now();
    if (!force && t - this.lastCheck < LEASES_CHECK_MS) return;
    this.lastCheck = t;
    try {
      const mtime = statSync(this.cfg.leases.file).mtimeMs;
      if (mtime === this.leasesMtime) return;
      const text = readFileSync(this.cfg.leases.file, 'utf8');
      this.leases = this.cfg.leases.format === 'isc' ? parseIscLeases(text) : parseDnsmasqLeases(text);
      this.leasesMtime = mtime;
      this.leasesError = null;
    } catch (e) {
      this.leasesError = (e as Error).message;
    }
  }
}
