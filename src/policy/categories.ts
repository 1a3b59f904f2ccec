import type { Config } from '../config/schema.js';
import { kindsFoundBy, SIGNAL_KINDS, type KindFoundBy, type Severity, type SignalKind } from '../signals/kinds.js';

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
  /**
   * Entries of its lists marked `# front-end` (a platform's alternative front-ends: Nitter, Invidious…),
   * filled when the lists are compiled: a block by one is also a web-proxy signal.
   */
  frontEnds?: Set<string>;
}

/** Answer rules with built-in names (not lists): they steer devices back to the network's DNS. */
export const ANSWER_RULES = {
  'doh-canary': { domains: ['use-application-dns.net'], answer: 'nxdomain' },
  'private-relay': { domains: ['mask.icloud.com', 'mask-h2.icloud.com'], answer: 'nxdomain' },
  ddr: { domains: ['_dns.resolver.arpa'], answer: 'nodata' },
} as const satisfies Record<KindFoundBy<'answer'>, { domains: readonly string[]; answer: CategoryAnswer }>;

/**
 * Every category in policy order: enabled circumvention rules first (so a name in both a
 * circumvention list and an ordinary one is recorded as circumvention), then the config's categories.
 */
export function categoryInfos(config: Config): CategoryInfo[] {
  const out: CategoryInfo[] = [];
  for (const name of kindsFoundBy('list')) {
    if (config.circumvention[SIGNAL_KINDS[name].configKey].enabled) {
      out.push({
        name,
        signal: name,
        severity: SIGNAL_KINDS[name].severity,
        answer: 'configured',
        everyone: true,
        recordBlocked: true,
        locked: true,
      });
    }
  }
  for (const name of kindsFoundBy('answer')) {
    if (config.circumvention[SIGNAL_KINDS[name].configKey].enabled) {
      out.push({
        name,
        signal: name,
        severity: SIGNAL_KINDS[name].severity,
        answer: ANSWER_RULES[name].answer,
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
