import type { Argv } from 'yargs';
import { actor, loadForCli, openStore, out } from './context.js';
import { accountOptions, auditRefusal, cliActor } from './cli-scope.js';
import { json, table } from '../format/output.js';
import { ExceptionScopeError, type ExceptionRecord } from '../storage/exceptions.js';
import { validateException } from '../exceptions/validate-exception.js';
import { LockedNames } from '../exceptions/locked-names.js';
import { formatDuration } from '../time/duration.js';
import { formatLocal, formatShort } from '../time/local-time.js';
import { CommandError } from './errors.js';
import { SharedExceptions } from '../storage/shared-exceptions.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';

interface Common {
  config: string;
  json: boolean;
}

/** The stable --json shape of an exception (documented in the README). */
export function exceptionJson(e: ExceptionRecord, now: number) {
  return {
    id: e.id,
    target_kind: e.targetKind,
    target: e.target,
    categories: e.categories,
    domains: e.domains,
    starts_at: new Date(e.startsAt).toISOString(),
    expires_at: new Date(e.expiresAt).toISOString(),
    state: stateOf(e, now),
    reason: e.reason,
    approved_by: e.approvedBy,
    created_by: e.createdBy,
    created_at: new Date(e.createdAt).toISOString(),
    revoked_at: e.revokedAt === null ? null : new Date(e.revokedAt).toISOString(),
    revoked_by: e.revokedBy,
    revoke_reason: e.revokeReason,
    request_id: e.requestId,
    requested_by: e.requestedBy,
  };
}

function stateOf(e: ExceptionRecord, now: number): string {
  if (e.revokedAt !== null) return 'revoked';
  if (now >= e.expiresAt) return 'expired';
  return now < e.startsAt ? 'scheduled' : 'active';
}

const opens = (e: ExceptionRecord) => [...e.categories, ...e.domains].join(', ');

/** `webfilter exception add|list|revoke`. */
export function exceptionCommands(y: Argv<Common>): Argv<Common> {
  return y
    .command(
      'add',
      'Open categories or domains for a group or client until a time, with the approver recorded',
      (c) =>
        accountOptions(c)
          .option('group', { type: 'string', describe: 'Group to open it for (see config groups)' })
          .option('client', { type: 'string', describe: 'Or a client address or network (IP or CIDR)' })
          .option('category', { type: 'string', array: true, default: [], describe: 'Category to open (repeatable)' })
          .option('domain', {
            type: 'string',
            array: true,
            default: [],
            describe: 'Domain to open, with its subdomains (repeatable)',
          })
          .option('for', { type: 'string', describe: 'How long: 50m, 2h, 1h30m, 3d' })
          .option('until', {
            type: 'string',
            describe: 'Until a time in the config’s timezone: 15:30 (today) or 2026-12-01T15:30',
          })
          .option('reason', { type: 'string', demandOption: true, describe: 'What it is for (recorded)' })
          .option('approved-by', { type: 'string', demandOption: true, describe: 'Who gave permission (recorded)' })
          .option('local', {
            type: 'boolean',
            default: false,
            describe:
              'Filters sharing a store: apply it on this filter only, now (when the shared store cannot be reached); it is pushed there when it can be',
          })
          .example(
            '$0 exception add --group room-12 --category instagram --until 15:30 --reason "Y9 media project" --approved-by "Mrs Patel (Head)"',
            'Open Instagram for Room 12 until 15:30 today',
          )
          .example(
            '$0 exception add --client 10.20.12.34 --domain youtube.com --for 50m --reason "Assembly video" --approved-by "Mr Jones (DHT)"',
            'Open YouTube for one device for 50 minutes',
          ),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const now = Date.now();
        const ex = validateException(
          {
            group: a.group,
            client: a.client,
            categories: a.category as string[],
            domains: a.domain as string[],
            for: a.for,
            until: a.until,
            reason: a.reason,
            approvedBy: a['approved-by'],
          },
          loaded,
          now,
          await LockedNames.load(loaded),
        );
        const store = await openStore(loaded);
        const shared = store.exceptions instanceof SharedExceptions ? store.exceptions : null;
        const { site, node } = loaded.config;
        let who = actor();
        let record: ExceptionRecord;
        try {
          const acting = await cliActor(store, loaded, a, 'exceptions.change', 'exception add');
          who = acting.recordedAs;
          const by = { actor: acting.actor, ip: 'cli', at: now, recordedAs: acting.recordedAs, scope: acting.scope };
          if (a.local && !shared)
            throw new CommandError(
              '--local is for filters that share a store (shared: in the config); this one keeps its exceptions on this box anyway',
            );
          record = a.local ? await shared!.addLocal(ex, by) : await store.exceptions.add(ex, by);
        } catch (e) {
          if (e instanceof ExceptionScopeError) await auditRefusal(store, who, 'exception add', e.message);
          if (e instanceof SharedUnavailableError) {
            throw new CommandError(
              `${e.message}\nNothing was added. To open it on this filter (${node}) only until the shared store is back, ` +
                'run the same command with --local: it is pushed to the shared store, with its approval and audit, ' +
                'when the connection returns, and the other filters apply it then.',
            );
          }
          throw e;
        } finally {
          await store.close();
        }
        if (a.json) return out(json(exceptionJson(record, now)));
        const where = a.local
          ? `Applied on this filter (${node}) only, now. It is pushed to the shared store, with its approval and audit, when the connection returns; the other filters of ${site} apply it then.`
          : shared
            ? `Every filter of ${site} applies it within a second and stops applying it at that time.`
            : 'The running daemon applies it within a second and stops applying it at that time.';
        out(
          `Exception ${record.id} added${a.local ? ` on this filter only (${node})` : ''}: ${opens(record)} for ${record.targetKind} ${record.target}\n` +
            `  until ${formatLocal(record.expiresAt)} (${formatDuration(record.expiresAt - now)} from now)\n` +
            `  approved by ${record.approvedBy}; reason: ${record.reason}; recorded as ${who}\n` +
            `${where}\n`,
        );
      },
    )
    .command(
      'list',
      'Show exceptions: active ones, or all with who/when/why',
      (c) =>
        c
          .option('all', { type: 'boolean', default: false, describe: 'Include expired and revoked ones' })
          .option('group', { type: 'string', describe: 'Only this group' })
          .example('$0 exception list', 'What is open right now, and for how long')
          .example('$0 exception list --all --json', 'The full audit trail for a script'),
      async (a) => {
        const loaded = await loadForCli(a.config, { fallback: true });
        const store = await openStore(loaded, { readOnly: true });
        const now = Date.now();
        let list = a.all ? await store.exceptions.all() : (await store.exceptions.current(now)).reverse();
        await store.close();
        if (a.group) list = list.filter((e) => e.targetKind === 'group' && e.target === a.group);
        if (a.json) return out(json(list.map((e) => exceptionJson(e, now))));
        const rows = list.map((e) => ({
          id: e.id,
          state: stateOf(e, now),
          target: `${e.targetKind === 'group' ? '' : 'client '}${e.target}`,
          opens: opens(e),
          until: formatShort(e.expiresAt),
          left: stateOf(e, now) === 'active' ? formatDuration(e.expiresAt - now) : '',
          approved: e.approvedBy,
          asked: e.requestId === null ? '' : `${e.requestedBy} (request ${e.requestId})`,
          reason: e.reason,
          by: `${e.createdBy} ${formatShort(e.createdAt)}`,
          revoked: e.revokedAt === null ? '' : `${e.revokedBy} ${formatShort(e.revokedAt)}: ${e.revokeReason}`,
        }));
        const cols: Record<string, string> = {
          ID: 'id',
          TARGET: 'target',
          OPENS: 'opens',
          UNTIL: 'until',
          LEFT: 'left',
          'APPROVED BY': 'approved',
          REASON: 'reason',
        };
        out(
          table(
            rows,
            a.all
              ? {
                  ID: 'id',
                  STATE: 'state',
                  ...Object.fromEntries(Object.entries(cols).slice(1)),
                  'ASKED BY': 'asked',
                  'ADDED BY': 'by',
                  REVOKED: 'revoked',
                }
              : cols,
          ),
        );
      },
    )
    .command(
      'revoke <id>',
      'End an exception now (recorded with who, when and why)',
      (c) =>
        accountOptions(c)
          .positional('id', { type: 'number', demandOption: true, describe: 'Exception id (see exception list)' })
          .option('reason', { type: 'string', demandOption: true, describe: 'Why it is ended early (recorded)' })
          .example('$0 exception revoke 7 --reason "Lesson finished early"', 'Close exception 7 now'),
      async (a) => {
        if (!Number.isInteger(a.id) || a.id <= 0) throw new CommandError(`"${a.id}" is not an exception id`);
        if (!a.reason.trim()) throw new CommandError('--reason is required: say why the exception is ended');
        const loaded = await loadForCli(a.config);
        const store = await openStore(loaded);
        let record: ExceptionRecord;
        try {
          const acting = await cliActor(store, loaded, a, 'exceptions.change', `exception revoke ${a.id}`);
          record = await store.exceptions.revoke(a.id, a.reason.trim(), {
            actor: acting.actor,
            ip: 'cli',
            at: Date.now(),
            recordedAs: acting.recordedAs,
            scope: acting.scope,
          });
        } catch (e) {
          if (e instanceof ExceptionScopeError) await auditRefusal(store, actor(), `exception revoke ${a.id}`, e.message);
          throw new CommandError((e as Error).message);
        } finally {
          await store.close();
        }
        if (a.json) return out(json(exceptionJson(record, Date.now())));
        // With shared, every filter of the site stops applying it, not only this box's daemon.
        const everywhere = loaded.config.shared
          ? `Every filter of ${loaded.config.site} blocks it again within a second.`
          : 'The daemon blocks it again within a second.';
        out(`Exception ${record.id} revoked (${opens(record)} for ${record.targetKind} ${record.target}). ${everywhere}\n`);
      },
    )
    .demandCommand(1, 'Name an exception command: add, list or revoke');
}
