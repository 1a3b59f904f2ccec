/**
 * The one registry of circumvention signal kinds. Every place that names, lists, describes or
 * configures a kind reads it: the policy's circumvention rules, the config schema (the
 * `circumvention:` sections and the reserved category names), the evidence processor (severity and
 * detail), the console's and the CLI's kind choices and the alerting. Adding a kind is one entry
 * here, plus whatever finds it (a list, an answer rule in policy/categories.ts, or a detector in
 * evidence/detectors/); the compiler and test/unit/signal-kinds.test.ts point at anything missed.
 */

/** How serious a signal is for the online safety officer. */
export type Severity = 'low' | 'medium' | 'high';

/**
 * How a kind is found: `list` — a lookup of a name in its blocklist (blocked for every group);
 * `answer` — a lookup of a built-in name that gets a fixed steering answer; `decoder` — a proxy's
 * name whose decoded site the client's policy blocks (verdict/proxy-names.ts); `detector` — a
 * pattern in the traffic found by the evidence writer (thresholds in its config section).
 */
export type SignalSource = 'list' | 'answer' | 'decoder' | 'detector';

export interface SignalKindInfo {
  severity: Severity;
  /** What it means, in one line for the online safety officer (also the start of a rule signal's detail). */
  description: string;
  /** Its section under `circumvention:` in the config. */
  configKey: string;
  source: SignalSource;
}

export const SIGNAL_KINDS = {
  'encrypted-dns': {
    severity: 'high',
    source: 'list',
    configKey: 'encrypted_dns',
    description: 'lookup of an encrypted-DNS resolver (DoH/DoT/DoQ); blocked',
  },
  'vpn-proxy': {
    severity: 'high',
    source: 'list',
    configKey: 'vpn_proxy',
    description: 'lookup of a VPN, proxy or anonymiser service; blocked',
  },
  'doh-canary': {
    severity: 'low',
    source: 'answer',
    configKey: 'doh_canary',
    description: 'Firefox DoH canary; answered NXDOMAIN so it keeps using the school DNS',
  },
  'private-relay': {
    severity: 'medium',
    source: 'answer',
    configKey: 'private_relay',
    description: 'iCloud Private Relay; answered NXDOMAIN so it turns off on this network',
  },
  ddr: {
    severity: 'low',
    source: 'answer',
    configKey: 'ddr',
    description: 'encrypted-resolver discovery (RFC 9462); answered NODATA',
  },
  'web-proxy': {
    severity: 'medium',
    source: 'decoder',
    configKey: 'web_proxy',
    description:
      "a blocked site opened through a web proxy that carries its name (Google Translate, an AMP or SXG cache) or a platform's alternative front-end (Nitter, Invidious...); blocked",
  },
  tunnel: {
    severity: 'high',
    source: 'detector',
    configKey: 'tunnel',
    description: 'DNS tunnelling: many unique long names, long high-entropy labels or TXT/NULL lookups under one domain',
  },
  'persistent-attempts': {
    severity: 'medium',
    source: 'detector',
    configKey: 'persistent_attempts',
    description: 'one device blocked again and again for one category within a few minutes',
  },
} as const satisfies Record<string, SignalKindInfo>;

export type SignalKind = keyof typeof SIGNAL_KINDS;

/** Every kind's name, in registry order (for choices and messages). */
export const SIGNAL_KIND_NAMES = Object.keys(SIGNAL_KINDS) as SignalKind[];

/** The kinds found in a given way, e.g. `kindsFoundBy('list')`. */
export type KindFoundBy<S extends SignalSource> = {
  [K in SignalKind]: (typeof SIGNAL_KINDS)[K]['source'] extends S ? K : never;
}[SignalKind];

/** The config key of a kind. */
export type ConfigKeyOf<K extends SignalKind> = (typeof SIGNAL_KINDS)[K]['configKey'];

export function kindsFoundBy<S extends SignalSource>(source: S): KindFoundBy<S>[] {
  return SIGNAL_KIND_NAMES.filter((k) => SIGNAL_KINDS[k].source === source) as KindFoundBy<S>[];
}

/** The registry entry of a kind named in data (an event, a row), or null for a name it does not know. */
export function signalKind(name: string): SignalKindInfo | null {
  return Object.hasOwn(SIGNAL_KINDS, name) ? SIGNAL_KINDS[name as SignalKind] : null;
}

/** Category names the rule kinds own (lists and answer rules): config categories may not use them. */
export const RESERVED_CATEGORIES: readonly string[] = SIGNAL_KIND_NAMES.filter((k) => SIGNAL_KINDS[k].source !== 'detector');
