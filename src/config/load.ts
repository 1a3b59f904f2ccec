import { readFile, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { duplicateKeys } from './duplicate-keys.js';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { parseHostPort, type HostPort } from './host-port.js';
import { defaultUpstreams } from './resolv-conf.js';
import { normaliseDomain } from '../dns/name.js';
import { kindsFoundBy, SIGNAL_KINDS } from '../signals/kinds.js';
import { isListUrl } from './lists-schema.js';
import { identityFiles } from './identity-schema.js';
import { alertFiles } from './alerts-schema.js';
import { parseUpstream, plainUpstream, type UpstreamSpec } from './upstream-spec.js';

/** A config that cannot be used; `problems` lists every mistake found, each led by its YAML path. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** One conditional-forwarding zone and the servers its names go to. */
export interface ZoneServers {
  zone: string;
  servers: HostPort[];
}

/** A validated config plus what was resolved from it at load. */
export interface LoadedConfig {
  file: string;
  config: Config;
  listen: HostPort[];
  /** `upstream.servers` (plain, DoT, DoH), or resolv.conf's nameservers when none are given. */
  upstreams: UpstreamSpec[];
  /** The PEM text of `upstream.tls_ca` (read at load), or null. */
  upstreamCa: string | null;
  /** `upstream.zones`: each zone (normalised name) with its own servers, in config order. */
  zones: ZoneServers[];
  /**
   * Category → its list sources: absolute file paths, and https:// URLs as written (read from their
   * stored copies in `listStateDir`). Circumvention lists are under their category names.
   */
  categoryFiles: Map<string, string[]>;
  /** Where subscribed lists' last good copies are kept: `lists/` beside the database. */
  listStateDir: string;
  /** `subscriptions.tls_ca`, absolute, or null. */
  subscriptionCa: string | null;
  /** `database.path`, absolute (relative paths are relative to the config file). */
  databasePath: string;
  /** `clients.leases.file`, absolute, or null. */
  leasesFile: string | null;
  /**
   * `shared.postgres.url_file`, absolute, or null. Only its name is kept here: the URL (with its
   * password) is read when connecting, so it is never in a saved copy of the config or in a log.
   */
  sharedUrlFile: string | null;
}

export interface LoadOptions {
  /** Where default upstreams come from when `upstream.servers` is empty. */
  resolvConf?: string;
  /**
   * Fail on list files that cannot be read (default). A reload turns this off: the policy compiler
   * then keeps an unreadable list's previous entries instead of rejecting the whole config.
   */
  requireLists?: boolean;
}

/** Formats a zod path as YAML path text: `groups.students.clients[2]`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(k))) out += (out ? '.' : '') + String(k);
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out || '(top level)';
}

/**
 * Reads, parses and validates a config file. Throws ConfigError listing every problem (YAML syntax,
 * schema, unreadable list files), each naming its YAML path and line.
 */
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [`cannot read config file: ${(e as Error).message}`]);
  }
  const lines = new LineCounter();
  // Duplicate keys are found by duplicateKeys (one pass), not the library's quadratic check.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      abs,
      doc.errors.map((e) => `line ${lines.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`),
    );
  }
  const repeated = duplicateKeys(doc.contents, lines);
  if (repeated.length > 0) {
    throw new ConfigError(
      abs,
      repeated.map((d) => `${formatPath(d.path)}: key written twice (line ${d.line}; first at line ${d.firstLine})`),
    );
  }
  const raw = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      abs,
      parsed.error.issues.map((i) => describeIssue(i, doc, lines)),
    );
  }
  const config = parsed.data;
  const dir = path.dirname(abs);
  const problems: string[] = [];
  const categoryFiles = new Map<string, string[]>();
  const circumventionLists = kindsFoundBy('list').map((k): [string, string[], string] => {
    const key = SIGNAL_KINDS[k].configKey;
    return [k, config.circumvention[key].lists, `circumvention.${key}.lists`];
  });
  const sources: [string, string[], string][] = [
    ...circumventionLists.filter(([, files]) => files.length > 0),
    ...Object.entries(config.categories).map(([name, c]): [string, string[], string] => [
      name,
      c.lists,
      Array.isArray((raw as { categories?: Record<string, unknown> }).categories?.[name])
        ? `categories.${name}`
        : `categories.${name}.lists`,
    ]),
  ];
  for (const [name, files, yamlPath] of sources) {
    const resolved = files.map((f) => (isListUrl(f) ? f : path.resolve(dir, f)));
    categoryFiles.set(name, resolved);
    if (opts.requireLists === false) continue;
    await Promise.all(
      resolved.map(async (f, i) => {
        if (isListUrl(f)) return; // fetched by the daemon; its stored copy may not exist yet
        try {
          await access(f, fsConstants.R_OK);
        } catch (e) {
          problems.push(
            `${yamlPath}[${i}]: cannot read list "${f}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${lineOf(doc, lines, [...yamlPath.split('.'), i])}`,
          );
        }
      }),
    );
  }
  // Secret files (RADIUS shared secrets, the feed token, alert URLs): checked at start; a reload may run after
  // the privilege drop, when a root-only file is unreadable, and then keeps the secrets it has.
  if (opts.requireLists !== false) {
    const sharedFiles = config.shared?.postgres.url_file
      ? [{ yamlPath: ['shared', 'postgres', 'url_file'], file: config.shared.postgres.url_file }]
      : [];
    for (const { yamlPath, file } of [...identityFiles(config.identity), ...alertFiles(config.alerts), ...sharedFiles]) {
      try {
        await access(path.resolve(dir, file), fsConstants.R_OK);
      } catch (e) {
        problems.push(
          `${formatPath(yamlPath)}: cannot read "${path.resolve(dir, file)}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})${lineOf(doc, lines, yamlPath)}`,
        );
      }
    }
  }
  const listen = config.server.listen.map((s) => parseHostPort(s, null));
  let upstreams = config.upstream.servers.map(parseUpstream);
  if (upstreams.length === 0) {
    upstreams = (await defaultUpstreams(opts.resolvConf ?? '/etc/resolv.conf', listen)).map(plainUpstream);
    if (upstreams.length === 0) {
      problems.push(
        `upstream.servers: none given, and ${opts.resolvConf ?? '/etc/resolv.conf'} has no usable nameserver (the daemon never forwards to itself)`,
      );
    }
  }
  const subscriptionCa = config.subscriptions.tls_ca ? path.resolve(dir, config.subscriptions.tls_ca) : null;
  if (subscriptionCa) {
    await access(subscriptionCa, fsConstants.R_OK).catch((e: NodeJS.ErrnoException) =>
      problems.push(
        `subscriptions.tls_ca: cannot read "${subscriptionCa}" (${e.code ?? e.message})${lineOf(doc, lines, ['subscriptions', 'tls_ca'])}`,
      ),
    );
  }
  let upstreamCa: string | null = null;
  if (config.upstream.tls_ca) {
    const file = path.resolve(dir, config.upstream.tls_ca);
    upstreamCa = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      problems.push(
        `upstream.tls_ca: cannot read "${file}" (${e.code ?? e.message})${lineOf(doc, lines, ['upstream', 'tls_ca'])}`,
      );
      return null;
    });
  }
  if (problems.length > 0) throw new ConfigError(abs, problems.sort());
  const zones = Object.entries(config.upstream.zones).map(([zone, servers]) => ({
    zone: normaliseDomain(zone) as string,
    servers: servers.map((s) => parseHostPort(s, 53)),
  }));
  const databasePath = path.resolve(dir, config.database.path);
  const leasesFile = config.clients.leases ? path.resolve(dir, config.clients.leases.file) : null;
  const urlFile = config.shared?.postgres.url_file;
  const sharedUrlFile = urlFile ? path.resolve(dir, urlFile) : null;
  const listStateDir = path.join(path.dirname(databasePath), 'lists');
  return {
    file: abs,
    config,
    listen,
    upstreams,
    upstreamCa,
    zones,
    categoryFiles,
    databasePath,
    leasesFile,
    sharedUrlFile,
    listStateDir,
    subscriptionCa,
  };
}

function describeIssue(issue: z.core.$ZodIssue, doc: ReturnType<typeof parseDocument>, lines: LineCounter): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => `${formatPath([...issue.path, k])}: unknown key${lineOf(doc, lines, [...issue.path, k], true)}`)
      .join('\n  ');
  }
  const value = doc.getIn(issue.path as unknown[]);
  let message = issue.message;
  if (issue.code === 'invalid_type' && value === undefined) message = `required (expected ${issue.expected})`;
  else if (issue.code === 'invalid_type') message = `expected ${issue.expected}, got ${JSON.stringify(toPlain(value))}`;
  else if (issue.code === 'invalid_value')
    message = `${JSON.stringify(toPlain(value))} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (issue.code === 'too_small' || issue.code === 'too_big')
    message = `${JSON.stringify(toPlain(value))}: ${issue.message.replace(/^Too (small|big): /, '')}`;
  return `${formatPath(issue.path)}: ${message}${lineOf(doc, lines, issue.path)}`;
}

function toPlain(v: unknown): unknown {
  return isNode(v) ? v.toJSON() : v;
}

/** " (line N)" for the node at `p` (or its key, for unknown keys), or "" when it has no position. */
function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, p: readonly PropertyKey[], key = false): string {
  let node: unknown = doc.getIn(p as unknown[], true);
  if (key || !isNode(node)) {
    // Fall back to the parent collection's pair for this key.
    const parent = doc.getIn(p.slice(0, -1) as unknown[], true) as
      { items?: { key?: { range?: number[]; value?: unknown } }[] } | undefined;
    const pair = parent?.items?.find((it) => (it.key as { value?: unknown })?.value === p[p.length - 1]);
    node = pair?.key ?? node;
  }
  const range = (node as { range?: number[] } | undefined)?.range;
  return range ? ` (line ${lines.linePos(range[0]).line})` : '';
}
