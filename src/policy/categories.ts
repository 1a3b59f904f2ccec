import type { Config } from '../config/schema.js';

/** Kinds of circumvention signal recorded in the evidence store. */
export type SignalKind =
  'encrypted-dns' | 'vpn-proxy' | 'doh-canary' | 'private-relay' | 'ddr' | 'tunnel' | 'persistent-attempts';
export type Severity = 'low' | 'medium' | 'high';

/** How a category answers a blocked name. */
export type CategoryAnswer = 'configured' | 'nxdomain' | 'nodata';

/** What the policy knows about a category beyond its domains. */
export interface CategoryInfo {
  name: string;
  /** The circumvention signal a match records, or null for an ordinary category. */
  signal: SignalKind | null;
  severity: Severity;
  /** `configured` = blocking.response; the answer rules use fixed answers that steer clients. */
  answer: CategoryAnswer;
  /** Applies to every group, whatever its `block` says (circumvention rules). */
  everyone: boolean;
  /** Write a row in the blocked-attempts table (answer rules only record a signal). */
  recordBlocked: boolean;
  /** No exception, schedule or group may open it: `locked: true` in config, and every circumvention rule. */
  locked: boolean;
}

/** Answer rules with built-in names (not lists): they steer devices back to the network's DNS. */
export const ANSWER_RULES = {
  'doh-canary': { key: 'doh_canary', domains: ['use-application-dns.net'], answer: 'nxdomain', severity: 'low' },
  'private-relay': {
    key: 'private_relay',
    domains: ['mask.icloud.com', 'mask-h2.icloud.com'],
    answer: 'nxdomain',
    severity: 'medium',
  },
  ddr: { key: 'ddr', domains: ['_dns.resolver.arpa'], answer: 'nodata', severity: 'low' },
} as const;

/** List-based circumvention categories: blocked for everyone with the configured response. */
export const LIST_RULES = {
  'encrypted-dns': { key: 'encrypted_dns', severity: 'high' },
  'vpn-proxy': { key: 'vpn_proxy', severity: 'high' },
} as const;

/**
 * Every category in policy order: enabled circumvention rules first (so a name in both a
 * circumvention list and an ordinary one is recorded as circumvention), then the config's categories.
 */
export function categoryInfos(config: Config): CategoryInfo[] {
  const out: CategoryInfo[] = [];
  for (const [name, r] of Object.entries(LIST_RULES)) {
    if (config.circumvention[r.key].enabled) {
      out.push({
        name,
        signal: name as SignalKind,
        severity: r.severity,
        answer: 'configured',
        everyone: true,
        recordBlocked: true,
        locked: true,
      });
    }
  }
  for (const [name, r] of Object.entries(ANSWER_RULES)) {
    if (config.circumvention[r.key].enabled) {
      out.push({
        name,
        signal: name as SignalKind,
        severity: r.severity,
        answer: r.answer,
        everyone: true,
        recordBlocked: false,
        locked: true,
      });
    }
  }
  for (const [name, c] of Object.entries(config.categories)) {
    out.push({
      name,
      signal: null,
      severity: 'low',
      answer: 'configured',
      // A locked category (e.g. illegal content) is blocked for every group, whatever its block list says.
      everyone: c.locked,
      recordBlocked: true,
      locked: c.locked,
    });
  }
  return out;
}
