import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { loadForCli, openStore, out } from './context.js';
import { CommandError, UsageError } from './errors.js';
import { json } from '../format/output.js';
import type { LoadedConfig } from '../config/load.js';
import { ExceptionSet } from '../exceptions/exception-set.js';
import { plainUpstream } from '../config/upstream-spec.js';
import { LocalRecords } from '../dns/local-records.js';
import { parseIp } from '../net/ip.js';
import { UpstreamRoutes } from '../upstream/routes.js';
import { ANSWER_RULES } from '../policy/categories.js';
import { ClientDirectory } from '../policy/clients.js';
import { parseAddressKey } from '../identity/address-key.js';
import { IdentityIndex, type Identity } from '../identity/identity-index.js';
import type { IdentityRecord } from '../storage/identities.js';
import { compilePolicy } from '../policy/compile.js';
import { evaluate } from '../verdict/evaluate.js';
import { normaliseDomain } from '../dns/name.js';
import { parseList } from '../lists/list-parser.js';
import { displayUrl, isListUrl, readListSource } from '../lists/source.js';
import { formatLocal, parseLocalTime } from '../time/local-time.js';
import { TYPE } from '../dns/constants.js';
import { checkChain } from './check-chain.js';
import { checkProxy } from './check-proxy.js';

interface CheckArgs {
  config: string;
  json: boolean;
  domain: string;
  client?: string;
  group?: string;
  at?: string;
  resolve: boolean;
  type: string;
}

/** Where a list entry is written: "file:line", or "built in" for the answer rules. */
async function entrySource(loaded: LoadedConfig, category: string, entry: string): Promise<string> {
  if (category in ANSWER_RULES) return 'built in';
  for (const file of loaded.categoryFiles.get(category) ?? []) {
    const { text } = await readListSource(file, loaded.listStateDir);
    const hit = parseList(text, file).entries.find((e) => e.domain === entry && !e.allow);
    if (hit) return `${isListUrl(file) ? displayUrl(file) : file}:${hit.line}`;
  }
  return '(not found in the list files now: they changed since load)';
}

const BLOCK_WORDS: Record<string, string> = {
  NXDOMAIN: 'NXDOMAIN (does not exist)',
  NODATA: 'NOERROR with no records (NODATA)',
  REFUSED: 'REFUSED',
};

/**
 * `webfilter check DOMAIN`: the decision the daemon would make, and why. It runs the daemon's own
 * policy code (compile, client directory, evaluate) on the config and the exceptions in the database.
 */
export const checkCommand: CommandModule<{ config: string; json: boolean }, CheckArgs> = {
  command: 'check <domain>',
  describe: 'Explain what the filter does with a name: group, list entry, exception, answer',
  builder: (y) =>
    y
      .positional('domain', { type: 'string', demandOption: true, describe: 'The name to check, e.g. www.instagram.com' })
      .option('client', { type: 'string', describe: 'As asked by this client address (its group is found as the daemon does)' })
      .option('group', { type: 'string', describe: 'As asked by a client of this group' })
      .option('at', {
        type: 'string',
        describe: 'At this time in the config’s timezone (exceptions in force then), e.g. "2026-12-01 10:45"',
      })
      .option('resolve', {
        type: 'boolean',
        default: true,
        describe: "Ask the upstreams for the name's live answer, to check its CNAME/DNAME/HTTPS chain (--no-resolve: don't)",
      })
      .option('type', {
        type: 'string',
        default: 'A',
        choices: ['A', 'AAAA', 'HTTPS'],
        describe: 'Record type of the live lookup',
      })
      .example('$0 check www.instagram.com --client 10.20.12.34', 'Why is Instagram blocked for this laptop?')
      .example('$0 check tiktok.com --group staff --at 12:40', 'Would staff get TikTok at 12:40?') as Argv<CheckArgs>,
  handler: async (a) => {
    const qname = normaliseDomain(a.domain);
    if (typeof qname !== 'string') throw new UsageError(`"${a.domain}": ${qname.error}`);
    // --at is read in the config's timezone, so the config comes first.
    const loaded = await loadForCli(a.config, { fallback: true });
    const now = Date.now();
    const at = a.at ? parseAt(a.at, now) : now;
    const compiled = await compilePolicy(loaded);
    const groups = compiled.policy.groups;
    if (a.client && !parseIp(a.client)) throw new UsageError(`--client "${a.client}" is not an IP address`);
    if (a.group && a.client) throw new UsageError('give --client or --group, not both');
    // A group the config does not have is about the config's content, not how the command was called
    // (exit 1, as exception add and user add say it).
    if (a.group && !groups.has(a.group))
      throw new CommandError(`--group "${a.group}": no such group (groups: ${[...groups.keys()].join(', ')})`);
    const directory = new ClientDirectory(loaded.config, groups, groups.get('default')!);
    let client = a.client ? directory.resolve(a.client) : null;
    let exceptions = ExceptionSet.EMPTY;
    // Who is at the address now (RADIUS accounting, identity feed), as the daemon last stored it.
    let identity: Identity | undefined;
    if (existsSync(loaded.databasePath)) {
      const store = await openStore(loaded, { readOnly: true });
      exceptions = new ExceptionSet((await store.exceptions.all()).filter((e) => e.revokedAt === null));
      if (a.client) identity = identityAt(await store.identities.live(now), a.client, now);
      await store.close();
    }
    if (client && identity) client = directory.withIdentity(client, identity);
    const group = client ? client.group : groups.get(a.group ?? 'default')!;

    const result: Record<string, unknown> = {
      name: qname,
      client: a.client ?? null,
      group: group.name,
      at: new Date(at).toISOString(),
    };
    const lines: string[] = [
      `${qname} for ${a.client ? `client ${a.client} (group ${group.name})` : `group ${group.name}`} at ${formatLocal(at)}`,
    ];
    if (identity && client) {
      result.user = {
        name: identity.user,
        group: identity.group,
        applied: client.userGroup,
        source: identity.source,
        reporter: identity.reporter,
        expires_at: new Date(identity.expires).toISOString(),
      };
      const how = client.userGroup
        ? `the user's group ${group.name} applies`
        : identity.group
          ? `"${identity.group}" is not a configured group: the address's group applies`
          : "no group reported: the address's group applies";
      lines.push(
        `  user:      ${identity.user} (${identity.source} from ${identity.reporter}, until ${formatLocal(identity.expires)}): ${how}`,
      );
    }
    if (client && !client.allowed) {
      Object.assign(result, { decision: 'refused', answer: 'REFUSED' });
      lines.push(
        '  client:    outside server.allowed_clients',
        '  answer:    REFUSED (this resolver does not serve that address)',
      );
      return out(a.json ? json(result) : lines.join('\n') + '\n');
    }
    const windows = compiled.timetable.activeAt(at);
    const rules = loaded.config.groups[group.name];
    const timed = windows
      .map((w) => {
        const allows = rules.allow_during[w.schedule] ?? [];
        const blocks = rules.block_during[w.schedule] ?? [];
        const what = [allows.length ? `allows ${allows.join(', ')}` : '', blocks.length ? `blocks ${blocks.join(', ')}` : '']
          .filter(Boolean)
          .join('; ');
        return { ...w, effect: what };
      })
      .filter((w) => w.effect);
    result.schedules = timed;
    for (const w of timed) lines.push(`  schedule:  ${w.schedule} (${w.window}) is running: ${w.effect} for ${group.name}`);
    const effective = compiled.timetable.effective(group, at);
    const own = evaluate(compiled.policy, exceptions, effective, a.client ?? '', qname, at);
    const letThrough = own.decision.action === 'allow' || own.exception !== null;
    // A web proxy's name for another site is decided by the site (as the daemon's policy stage does).
    const proxy =
      letThrough && loaded.config.circumvention.web_proxy.enabled
        ? checkProxy(compiled.policy, exceptions, effective, a.client ?? '', qname, at)
        : null;
    // A name that is let through is also checked along its live answer's chain (CNAME inspection).
    const chain =
      letThrough && !proxy?.blocked
        ? await checkChain(loaded, compiled.policy, exceptions, effective, a.client ?? '', qname, at, {
            resolve: a.resolve,
            qtype: TYPE[a.type as 'A' | 'AAAA' | 'HTTPS'],
          })
        : null;
    if (proxy) result.proxy = { services: proxy.path.services, hosts: proxy.path.hosts };
    if (chain) result.chain = { names: chain.names, upstream: chain.upstream, note: chain.note };
    const blockedBy = proxy?.blocked ?? chain?.blocked ?? null;
    const v = blockedBy ? { decision: blockedBy.decision, exception: null, opened: null } : own;
    if (own.decision.action === 'allow') lines.push(`  lists:     no category blocked for ${group.name} lists it`);
    if (proxy) lines.push(...proxy.lines);
    if (chain) lines.push(`  chain:     ${chain.note}`);
    if (blockedBy) {
      result.via = blockedBy.via;
      lines.push(`  via:       ${blockedBy.name} is blocked for ${group.name}, so ${qname} is too`);
    }
    if (v.decision.action === 'allow') {
      Object.assign(result, { decision: 'allowed', answer: 'forwarded' });
      const where = routeOf(loaded, qname);
      Object.assign(result, where.json);
      lines.push(...where.lines);
      if (result.answer === 'forwarded')
        lines.push('  answer:    forwarded to the upstream resolvers (from the cache when fresh)');
    } else {
      const c = v.decision.category;
      const source = await entrySource(loaded, c.name, v.decision.entry);
      const frontEnd =
        !v.exception && loaded.config.circumvention.web_proxy.enabled && c.signal === null && c.frontEnds?.has(v.decision.entry);
      const signal = proxy?.blocked || frontEnd ? 'web-proxy' : c.signal;
      if (frontEnd)
        lines.push(`  front-end: "${v.decision.entry}" is marked as an alternative front-end of ${c.name} in its list`);
      Object.assign(result, { category: c.name, entry: v.decision.entry, source, locked: c.locked, signal });
      lines.push(`  list:      ${c.name}${c.locked ? ' (locked)' : ''} — entry "${v.decision.entry}" at ${source}`);
      if (signal) lines.push(`  rule:      circumvention (${signal}): recorded as a signal for the online safety officer`);
      if (v.exception) {
        const e = v.exception.record;
        Object.assign(result, {
          decision: 'exception',
          answer: 'forwarded',
          exception: { id: e.id, approved_by: e.approvedBy, reason: e.reason, expires_at: new Date(e.expiresAt).toISOString() },
        });
        lines.push(
          `  exception: ${e.id} — ${[...e.categories, ...e.domains].join(', ')} for ${e.targetKind} ${e.target}, approved by ${e.approvedBy}, until ${formatLocal(e.expiresAt)} (${e.reason})`,
        );
        const where = routeOf(loaded, qname);
        Object.assign(result, where.json);
        lines.push(...where.lines);
        if (result.answer === 'forwarded')
          lines.push('  answer:    forwarded to the upstream resolvers (allowed by the exception; TTLs end with it)');
      } else {
        const answer =
          c.answer === 'nxdomain'
            ? 'NXDOMAIN'
            : c.answer === 'nodata'
              ? 'NODATA'
              : configuredAnswer(loaded.config.blocking.response);
        Object.assign(result, { decision: 'blocked', answer });
        lines.push(`  answer:    blocked — ${BLOCK_WORDS[answer] ?? answer}`);
      }
    }
    out(a.json ? json(result) : lines.join('\n') + '\n');
  },
};

/**
 * Where an allowed name's answer comes from, decided by the daemon's own code: a local record, a
 * special-use name answered here, a conditional-forwarding zone's servers, or the main upstreams.
 */
function routeOf(loaded: LoadedConfig, qname: string): { json: Record<string, unknown>; lines: string[] } {
  const rec = new LocalRecords(loaded.config.local_records).get(qname);
  if (rec) {
    return {
      json: { answer: 'local record', local_record: rec.text },
      lines: [
        `  local:     local_records: ${rec.text.join(', ')} (answered here for every group; other types NODATA)`,
        '  answer:    local record',
      ],
    };
  }
  const routes = new UpstreamRoutes(
    loaded.upstreams,
    loaded.zones.map((z) => ({ zone: z.zone, value: z.servers.map(plainUpstream) })),
  );
  const r = routes.route(qname);
  if (r.kind === 'local') {
    return {
      json: { answer: 'NXDOMAIN', upstream: { set: 'none', zone: r.zone, why: r.why } },
      lines: [
        `  upstream:  none — ${r.zone} is a ${r.why}, and no upstream.zones entry forwards it`,
        '  answer:    NXDOMAIN, answered here (never sent to the public upstreams)',
      ],
    };
  }
  const servers = r.value.map((s) => s.name);
  if (r.kind === 'zone') {
    return {
      json: { upstream: { set: 'zone', zone: r.zone, servers } },
      lines: [`  upstream:  zone ${r.zone} (upstream.zones) → ${servers.join(', ')}`],
    };
  }
  return {
    json: { upstream: { set: 'main', servers } },
    lines: [`  upstream:  main upstreams → ${servers.join(', ')}`],
  };
}

function configuredAnswer(response: string): string {
  if (response === 'nxdomain') return 'NXDOMAIN';
  if (response === 'refused') return 'REFUSED';
  if (response === 'null') return '0.0.0.0 / :: (other types NODATA)';
  return `${response} (other types NODATA)`;
}

function parseAt(text: string, now: number): number {
  try {
    return parseLocalTime(text, now);
  } catch (e) {
    throw new UsageError(`--at: ${(e as Error).message}`);
  }
}

/** The stored mapping that covers `address` now (an exact address first, then the longest IPv6 prefix). */
function identityAt(records: IdentityRecord[], address: string, now: number): Identity | undefined {
  const index = new IdentityIndex();
  for (const r of records) index.set(parseAddressKey(r.address), r);
  return index.lookup(parseAddressKey(address).key, now);
}
