import type { Argv } from 'yargs';
import { actor, loadForCli, openStore, out } from './context.js';
import { accountOptions, auditRefusal, cliActor, type AccountFlags } from './cli-scope.js';
import { CommandError } from './errors.js';
import { json, table } from '../format/output.js';
import { decideRequest, makeRequest, RequestRefused, stateAt, type Acting } from '../requests/permission-requests.js';
import { REQUEST_STATES, type PermissionRequest, type RequestState } from '../storage/requests.js';
import { formatDuration } from '../time/duration.js';
import { formatShort } from '../time/local-time.js';

interface Common {
  config: string;
  json: boolean;
}

/** The stable --json shape of a permission request (documented in the README). */
export function requestJson(r: PermissionRequest, now: number) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id,
    group: r.group,
    categories: r.categories,
    starts_at: iso(r.startsAt),
    expires_at: iso(r.expiresAt),
    lesson: r.lesson,
    reason: r.reason,
    requested_by: r.requestedBy,
    requested_at: iso(r.requestedAt),
    state: stateAt(r, now),
    decided_by: r.decidedBy,
    decided_at: iso(r.decidedAt),
    note: r.note,
    exception_id: r.exceptionId,
  };
}

/** ICT on the appliance acts as the OS user (the real one behind sudo), with ICT's permissions. */
function cliActing(): Acting {
  const name = actor();
  return { name, role: 'ict', groups: [], ip: 'cli', at: Date.now(), recordedAs: name };
}

/** A refusal as the CLI prints it: one line per field, named as its flag. */
function refused(e: RequestRefused): CommandError {
  const lines = Object.entries(e.problems).map(([k, v]) =>
    k === 'request' ? v : `--${k === 'category' ? 'category' : k}: ${v}`,
  );
  return new CommandError(`nothing was changed:\n  ${lines.join('\n  ')}`);
}

const when = (r: PermissionRequest) =>
  r.lesson ?? `${r.startsAt === null ? 'on approval' : formatShort(r.startsAt)} – ${formatShort(r.expiresAt)}`;

/** `webfilter request add|list|approve|decline`: permission requests, for ICT on the appliance. */
export function requestCommands(y: Argv<Common>): Argv<Common> {
  return y
    .command(
      'add',
      "Ask, on a teacher's behalf, for categories for one of their groups (an approver decides)",
      (c) =>
        c
          .option('teacher', { type: 'string', demandOption: true, describe: 'The teacher account asking (see user list)' })
          .option('group', { type: 'string', demandOption: true, describe: "One of the teacher's groups" })
          .option('category', { type: 'string', array: true, default: [], describe: 'Category to open (repeatable)' })
          .option('lesson', { type: 'string', describe: '"current" (this lesson) or a date: the same lesson that day' })
          .option('from', { type: 'string', describe: 'Start (15:30, 2026-12-01T10:00); with a lesson date, a time in it' })
          .option('until', { type: 'string', describe: 'End time, or a duration from the start (50m)' })
          .option('reason', { type: 'string', demandOption: true, describe: 'What it is for (recorded)' })
          .example(
            '$0 request add --teacher t.smith --group room-12 --category instagram --lesson current --reason "Y9 media project"',
            'Until the end of the lesson running now',
          )
          .example(
            '$0 request add --teacher t.smith --group room-12 --category youtube --lesson 2026-12-01 --from 10:15 --reason "Video analysis"',
            'The lesson running at 10:15 on 1 December',
          ),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const store = await openStore(loaded);
        try {
          const teacher = await store.accounts.findUser(a.teacher);
          if (!teacher || teacher.disabledAt !== null) throw new CommandError(`--teacher: no active account "${a.teacher}"`);
          const { request, exception } = await makeRequest(
            store,
            loaded,
            {
              group: a.group,
              categories: a.category as string[],
              lesson: a.lesson,
              from: a.from,
              until: a.until,
              reason: a.reason,
            },
            teacher,
            cliActing(),
          );
          if (a.json) return out(json(requestJson(request, Date.now())));
          out(
            exception
              ? `Request ${request.id} approved at once by the standing permission (requests.auto_approve): exception ${exception.id}.\n`
              : `Request ${request.id} made for ${teacher.name}: ${request.categories.join(', ')} for ${request.group}, ${when(request)}.\n` +
                  'An approver decides on the console (or: webfilter request approve|decline).\n',
          );
        } catch (e) {
          if (e instanceof RequestRefused) throw refused(e);
          throw e;
        } finally {
          await store.close();
        }
      },
    )
    .command(
      'list',
      'Permission requests: pending ones, or all',
      (c) =>
        c
          .option('all', { type: 'boolean', default: false, describe: 'Every request, decided and expired ones too' })
          .option('state', { type: 'string', choices: REQUEST_STATES as unknown as string[], describe: 'Only this state' })
          .example('$0 request list', 'What waits for a decision')
          .example('$0 request list --all --json', 'Every request, for a script'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const store = await openStore(loaded, { readOnly: true });
        const now = Date.now();
        let list = await store.requests.list({});
        await store.close();
        const wanted: RequestState | undefined = (a.state as RequestState | undefined) ?? (a.all ? undefined : 'pending');
        if (wanted) list = list.filter((r) => stateAt(r, now) === wanted);
        if (a.json) return out(json(list.map((r) => requestJson(r, now))));
        out(
          table(
            list.map((r) => ({
              id: r.id,
              state: stateAt(r, now),
              group: r.group,
              opens: r.categories.join(', '),
              when: when(r),
              long: formatDuration(r.expiresAt - (r.startsAt ?? Math.max(now, r.requestedAt))),
              by: `${r.requestedBy} ${formatShort(r.requestedAt)}`,
              reason: r.reason,
              decided: r.decidedBy ? `${r.decidedBy} ${formatShort(r.decidedAt!)}${r.note ? `: ${r.note}` : ''}` : '',
              exception: r.exceptionId ?? '',
            })),
            {
              ID: 'id',
              STATE: 'state',
              GROUP: 'group',
              OPENS: 'opens',
              WHEN: 'when',
              FOR: 'long',
              'ASKED BY': 'by',
              REASON: 'reason',
              DECIDED: 'decided',
              EXCEPTION: 'exception',
            },
          ),
        );
      },
    )
    .command(
      'approve <id>',
      'Approve a pending request (needs requests.ict_may_approve): it becomes an exception at once',
      (c) =>
        accountOptions(c)
          .positional('id', { type: 'number', demandOption: true, describe: 'Request id (see request list)' })
          .option('note', { type: 'string', default: '', describe: 'A note for the teacher (recorded)' })
          .example('$0 request approve 12 --note "For this lesson only"', 'Approve request 12'),
      async (a) => decide(a, 'approve'),
    )
    .command(
      'decline <id>',
      'Decline a pending request (needs requests.ict_may_approve)',
      (c) =>
        accountOptions(c)
          .positional('id', { type: 'number', demandOption: true, describe: 'Request id (see request list)' })
          .option('note', { type: 'string', default: '', describe: 'Why (recorded, shown to the teacher)' })
          .example('$0 request decline 12 --note "Use the school account instead"', 'Decline request 12'),
      async (a) => decide(a, 'decline'),
    )
    .demandCommand(1, 'Name a request command: add, list, approve or decline');
}

async function decide(a: Common & AccountFlags & { id: number; note: string }, decision: 'approve' | 'decline'): Promise<void> {
  if (!Number.isInteger(a.id) || a.id <= 0) throw new CommandError(`"${a.id}" is not a request id`);
  const loaded = await loadForCli(a.config);
  const store = await openStore(loaded);
  try {
    // With shared: as --account (its role and scope), else root for this filter's site (cliActor).
    // A request approved by root while the shared store is away is applied on this box and pushed later.
    const acting = await cliActor(store, loaded, a, 'requests.decide', `request ${decision} ${a.id}`);
    const { request, exception } = await decideRequest(store, loaded, a.id, decision, a.note, {
      ...cliActing(),
      name: acting.actor,
      role: acting.role ?? 'ict',
      groups: acting.groups ?? [],
      recordedAs: acting.recordedAs,
      scope: acting.scope,
    });
    if (a.json) return out(json(requestJson(request, Date.now())));
    out(
      exception
        ? `Request ${request.id} approved: exception ${exception.id} opens ${request.categories.join(', ')} for ${request.group} until ${formatShort(exception.expiresAt)}. The daemon applies it within a second.\n`
        : `Request ${request.id} declined.\n`,
    );
  } catch (e) {
    if (e instanceof RequestRefused && e.status === 403)
      await auditRefusal(store, actor(), `request ${decision} ${a.id}`, e.message);
    if (e instanceof RequestRefused) throw refused(e);
    throw e;
  } finally {
    await store.close();
  }
}
