import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { json, table } from '../format/output.js';
import type { IdentityRecord } from '../storage/identities.js';
import { formatLocal } from '../time/local-time.js';
import { loadForCli, openStore, out } from './context.js';

/**
 * `webfilter identity list`: who is at which address now (RADIUS accounting, the identity feed), as
 * the daemon last stored it, and whether each mapping's group applies (it must be a configured group).
 */
export function identityCommands(y: Argv<{ config: string; json: boolean }>) {
  return y
    .command({
      command: 'list',
      describe: 'Current mappings of address → user, group, MAC, session (RADIUS accounting and the identity feed)',
      builder: (b) =>
        b
          .option('user', { type: 'string', describe: 'Only this user' })
          .example('$0 identity list', 'Who is signed in where')
          .example('$0 identity list --user j.smith --json', 'Where one person is'),
      handler: async (a: { config: string; json: boolean; user?: string }) => {
        const loaded = await loadForCli(a.config);
        const now = Date.now();
        let records: IdentityRecord[] = [];
        if (existsSync(loaded.databasePath)) {
          const store = await openStore(loaded, { readOnly: true });
          records = await store.identities.live(now);
          await store.close();
        }
        const groups = new Set(Object.keys(loaded.config.groups));
        const rows = records
          .filter((r) => a.user === undefined || r.user === a.user)
          .map((r) => ({
            address: r.address,
            user: r.user,
            group: r.group,
            group_applies: r.group !== null && groups.has(r.group),
            mac: r.mac,
            session: r.session,
            source: r.source,
            reporter: r.reporter,
            since: new Date(r.since).toISOString(),
            expires: new Date(r.expires).toISOString(),
          }));
        if (a.json) return out(json(rows));
        if (rows.length === 0) return out('no current mappings\n');
        out(
          table(
            rows.map((r) => ({
              ...r,
              group: r.group === null ? '' : r.group_applies ? r.group : `${r.group} (not configured)`,
              since: formatLocal(Date.parse(r.since)),
              expires: formatLocal(Date.parse(r.expires)),
            })),
            {
              ADDRESS: 'address',
              USER: 'user',
              GROUP: 'group',
              MAC: 'mac',
              SOURCE: 'source',
              FROM: 'reporter',
              SINCE: 'since',
              UNTIL: 'expires',
            },
          ),
        );
      },
    } as CommandModule<{ config: string; json: boolean }, { config: string; json: boolean; user?: string }>)
    .demandCommand(1, 'Name an identity command: list');
}
