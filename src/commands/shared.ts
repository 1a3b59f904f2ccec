import type { Argv } from 'yargs';
import { json } from '../format/output.js';
import { openShared, sharedLocation } from '../storage/open-shared.js';
import type { SharedStatus } from '../storage/shared.js';
import { shippingBacklog, type ShippingStores } from '../storage/shipping.js';
import { formatDuration } from '../time/duration.js';
import { loadForCli, openStore, out } from './context.js';
import { existsSync } from 'node:fs';
import { CommandError } from './errors.js';
import { formatSeconds } from '../time/local-time.js';
import { count } from '../text/plural.js';

interface Common {
  config: string;
  json: boolean;
}

function needShared(loaded: Awaited<ReturnType<typeof loadForCli>>) {
  const location = sharedLocation(loaded);
  if (!location) throw new CommandError(`${loaded.file} has no shared: section: this filter keeps its state on this box only`);
  return location;
}

/** This filter's evidence waiting to be shipped, read from its own files (known while the store is down too). */
async function localBacklog(
  loaded: Awaited<ReturnType<typeof loadForCli>>,
): Promise<{ rows: number; lagSeconds: number } | { error: string } | null> {
  if (!existsSync(loaded.databasePath)) return null;
  try {
    const store = await openStore(loaded, { readOnly: true });
    try {
      const ship = (store as { shipping?: ShippingStores }).shipping;
      return ship ? shippingBacklog(ship, Date.now()) : null;
    } finally {
      await store.close();
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
}

type Backlog = Awaited<ReturnType<typeof localBacklog>>;

function backlogText(b: Backlog): string {
  if (b === null) return 'no evidence here yet';
  if ('error' in b) return `unknown (${b.error})`;
  return b.rows === 0
    ? 'all shipped'
    : `${count(b.rows, 'row')} waiting, oldest change ${formatDuration(b.lagSeconds * 1000)} ago`;
}

/** `webfilter shared status` for people. */
export function sharedStatusText(s: SharedStatus, site: string, node: string, backlog: Backlog): string {
  const lines = [`Shared store: PostgreSQL at ${s.target} (site ${site}, this node ${node})`];
  lines.push(`  evidence of this filter: ${backlogText(backlog)}`);
  if (!s.connected) {
    lines.push(`  connection: FAILED: ${s.error}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`  connection: ok, server ${s.serverVersion}, ${s.latencyMs} ms round trip`);
  const schema =
    s.schemaVersion === s.codeSchemaVersion
      ? `${s.schemaVersion} (current)`
      : s.schemaVersion! < s.codeSchemaVersion
        ? `${s.schemaVersion}, older than this webfilter's ${s.codeSchemaVersion}: run webfilter shared migrate`
        : `${s.schemaVersion}, newer than this webfilter's ${s.codeSchemaVersion}: upgrade webfilter`;
  lines.push(`  schema version: ${schema}`);
  if (s.lastChange !== null) {
    lines.push(`  exception changes: last ${s.lastChange}`);
    if (s.nodes.length === 0) lines.push('  filters of this site: none has reported yet');
    for (const n of s.nodes) {
      lines.push(
        `  filter ${n.node}: applied change ${n.appliedChange} (${n.lagChanges === 0 ? 'up to date' : `${n.lagChanges} behind`}), last seen ${formatSeconds(n.lastSeen)}` +
          (n.shipping
            ? `; evidence: ${count(n.shipping.backlogRows, 'row')} waiting, lag ${Math.round(n.shipping.lagSeconds)} s (reported ${formatSeconds(n.shipping.at)})`
            : ''),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `webfilter shared migrate|status`: the shared PostgreSQL store of several filters. */
export function sharedCommands(y: Argv<Common>): Argv<Common> {
  return y
    .command(
      'migrate',
      'Bring the shared PostgreSQL store up to this webfilter’s schema (the daemon also does this at start)',
      (c) => c.example('$0 shared migrate', 'Create or upgrade the tables before the first filter starts'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const store = openShared(needShared(loaded));
        try {
          const r = await store.migrate();
          if (a.json) return out(json({ target: store.target, from: r.from, to: r.to }));
          out(
            r.from === r.to
              ? `Shared store at ${store.target}: schema version ${r.to} already; nothing to do.\n`
              : `Shared store at ${store.target}: schema upgraded from version ${r.from} to ${r.to}.\n`,
          );
        } finally {
          await store.close();
        }
      },
    )
    .command(
      'status',
      'Connection to the shared store, its schema version, and how far each filter of this site lags',
      (c) => c.example('$0 shared status', 'Is the shared store reachable, and are both filters up to date?'),
      async (a) => {
        const loaded = await loadForCli(a.config, { fallback: true });
        const location = needShared(loaded);
        const store = openShared(location);
        let s: SharedStatus;
        try {
          s = await store.status();
        } finally {
          await store.close();
        }
        const backlog = await localBacklog(loaded);
        if (a.json) {
          out(
            json({
              target: s.target,
              site: location.site,
              node: location.node,
              connected: s.connected,
              error: s.error,
              server_version: s.serverVersion,
              latency_ms: s.latencyMs,
              schema_version: s.schemaVersion,
              code_schema_version: s.codeSchemaVersion,
              last_change: s.lastChange,
              shipping:
                backlog === null || 'error' in backlog
                  ? backlog
                  : { backlog_rows: backlog.rows, lag_seconds: Math.round(backlog.lagSeconds) },
              nodes: s.nodes.map((n) => ({
                node: n.node,
                last_seen: new Date(n.lastSeen).toISOString(),
                applied_change: n.appliedChange,
                lag_changes: n.lagChanges,
                shipping: n.shipping && {
                  reported_at: new Date(n.shipping.at).toISOString(),
                  backlog_rows: n.shipping.backlogRows,
                  lag_seconds: Math.round(n.shipping.lagSeconds),
                },
              })),
            }),
          );
        } else out(sharedStatusText(s, location.site, location.node, backlog));
        if (!s.connected || s.schemaVersion !== s.codeSchemaVersion) process.exitCode = 1;
      },
    )
    .demandCommand(1, 'Name a shared command: migrate or status');
}
