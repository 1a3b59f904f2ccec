import type { LoadedConfig } from '../config/load.js';
import { ExceptionRequestError, validateException } from '../exceptions/validate-exception.js';
import { LockedNames } from '../exceptions/locked-names.js';
import { may, type Role } from '../roles/roles.js';
import type { ChangedBy, ExceptionRecord, NewException } from '../storage/exceptions.js';
import { dueAt, RequestChangeError, type PermissionRequest, type RequestState } from '../storage/requests.js';
import type { Storage } from '../storage/storage.js';
import { requestWindow, TimingError, type RequestTiming } from './request-times.js';
import { outsideScope, type SiteScope } from '../storage/scope.js';

/**
 * Permission requests, the rules shared by the console and the CLI: a teacher asks for categories
 * for one of their own groups, for a lesson or a time; an approver approves or declines; an approval
 * becomes an exception through the exceptions repository, checked by the same validation as
 * `exception add` at the moment it is approved. A standing permission (`requests.auto_approve`)
 * approves as the request is made.
 */

/** The fields of a request, as the form and the CLI name them. */
export type RequestField = 'group' | 'category' | 'lesson' | 'from' | 'until' | 'reason';

/** A request or decision refused; `problems` are keyed by the field they are about (for the form). */
export class RequestRefused extends Error {
  constructor(
    readonly problems: Partial<Record<RequestField | 'request', string>>,
    /** 403: not theirs to ask or decide (a group not theirs, no permission); 404: no such request; else 400. */
    readonly status: 400 | 403 | 404 | 409 = 400,
  ) {
    super(Object.values(problems).join('; '));
    this.name = 'RequestRefused';
  }
}

/** Who acts: the account (with its role and scope), and where from. */
export interface Acting {
  /** The account name: recorded as requested_by / approved_by. */
  name: string;
  role: Role;
  /** A teacher's groups (their scope). */
  groups: string[];
  /** The console client's address, or "cli". */
  ip: string;
  at: number;
  /** How the exception records who added it: "head.patel (console)", or the OS user. */
  recordedAs: string;
  /** The sites the account acts for (filters sharing a store): it decides only this filter's site's requests. */
  scope?: SiteScope;
}

/** What a teacher asks for. */
export interface RequestInput extends RequestTiming {
  group: string;
  categories: string[];
  reason: string;
}

/** Recorded as the decider of a request approved by `requests.auto_approve`. */
export const STANDING_PERMISSION = 'standing permission (requests.auto_approve)';

/** Maps validateException's flag-named problems onto the request's fields. */
function byField(problems: string[], timeField: RequestField): RequestRefused['problems'] {
  const out: RequestRefused['problems'] = {};
  const FLAG: Record<string, RequestField> = {
    group: 'group',
    category: 'category',
    reason: 'reason',
    for: timeField,
    until: timeField,
  };
  for (const p of problems) {
    const flag = /--([a-z-]+)/.exec(p)?.[1] ?? '';
    const field = FLAG[flag] ?? 'reason';
    const text = p.replace(/^--[a-z-]+:? ?/, '');
    out[field] = out[field] ? `${out[field]}; ${text}` : text;
  }
  return out;
}

/** The exception a request becomes, checked now exactly as `exception add` checks one. */
function exceptionFor(
  r: Pick<PermissionRequest, 'group' | 'categories' | 'startsAt' | 'expiresAt' | 'reason'>,
  approvedBy: string,
  loaded: LoadedConfig,
  now: number,
  timeField: RequestField,
): NewException {
  try {
    return validateException(
      {
        group: r.group,
        categories: r.categories,
        domains: [],
        window: { startsAt: r.startsAt ?? now, expiresAt: r.expiresAt },
        reason: r.reason,
        approvedBy,
      },
      loaded,
      now,
      LockedNames.NONE,
    );
  } catch (e) {
    if (e instanceof ExceptionRequestError) throw new RequestRefused(byField(e.problems, timeField));
    throw e;
  }
}

const changedBy = (who: Acting): ChangedBy => ({ actor: who.name, ip: who.ip, at: who.at, recordedAs: who.recordedAs });

/**
 * Makes a request for `requester` (a teacher; the CLI may make one on a teacher's behalf, `who`
 * being ICT). Refuses (403) a group that is not the teacher's, whatever the form said; every other
 * problem is a 400 keyed by field. Nothing is stored when refused.
 */
export async function makeRequest(
  storage: Pick<Storage, 'requests'>,
  loaded: LoadedConfig,
  input: RequestInput,
  requester: { name: string; role: Role; groups: string[] },
  who: Acting,
): Promise<{ request: PermissionRequest; exception: ExceptionRecord | null }> {
  const { config } = loaded;
  if (!may(requester.role, 'requests.make', config)) {
    throw new RequestRefused({ request: `${requester.name} (role ${requester.role}) cannot ask for permission` }, 403);
  }
  const group = input.group.trim();
  if (!requester.groups.includes(group)) {
    throw new RequestRefused(
      { group: `"${group}" is not one of ${requester.name}'s groups (${requester.groups.join(', ') || 'none'})` },
      403,
    );
  }
  const categories = [...new Set(input.categories.map((c) => c.trim()).filter(Boolean))];
  const problems: RequestRefused['problems'] = {};
  if (categories.length === 0) problems.category = 'pick at least one category';
  let window: ReturnType<typeof requestWindow> | null = null;
  try {
    window = requestWindow(input, loaded, who.at);
  } catch (e) {
    if (!(e instanceof TimingError)) throw e;
    Object.assign(problems, e.problems);
  }
  const reason = input.reason.trim();
  const timeField: RequestField = input.lesson?.trim() ? 'lesson' : 'until';
  const draft = {
    group,
    categories,
    reason,
    startsAt: window?.startsAt ?? null,
    expiresAt: window?.expiresAt ?? who.at + 60_000,
  };
  try {
    // The same checks as the exception it would become (group, categories, locked, length, reason).
    exceptionFor(draft, requester.name, loaded, who.at, timeField);
  } catch (e) {
    if (!(e instanceof RequestRefused)) throw e;
    for (const [k, v] of Object.entries(e.problems) as [RequestField, string][]) if (!problems[k]) problems[k] = v;
  }
  if (Object.keys(problems).length > 0) throw new RequestRefused(problems);

  const request = { ...draft, lesson: window!.lesson, requestedBy: requester.name };
  const standing = config.requests.auto_approve[group] ?? [];
  if (categories.every((c) => standing.includes(c))) {
    const by: ChangedBy = { actor: 'requests.auto_approve', ip: who.ip, at: who.at, recordedAs: 'requests.auto_approve' };
    const exception = exceptionFor(request, STANDING_PERMISSION, loaded, who.at, timeField);
    return storage.requests.add(request, changedBy(who), {
      approval: { exception, note: '', decidedBy: STANDING_PERMISSION },
      by,
    });
  }
  return storage.requests.add(request, changedBy(who));
}

/**
 * Approves or declines a pending request as `who` (who must have requests.decide under the config:
 * approvers, and ICT when requests.ict_may_approve). An approval stores the exception, approved by
 * `who`'s account, at once; refused (400) if the exception would no longer pass `exception add`'s
 * checks (e.g. the category has been locked since), (409) if the request is no longer pending.
 */
export async function decideRequest(
  storage: Pick<Storage, 'requests'>,
  loaded: LoadedConfig,
  id: number,
  decision: 'approve' | 'decline',
  note: string,
  who: Acting,
): Promise<{ request: PermissionRequest; exception: ExceptionRecord | null }> {
  if (!may(who.role, 'requests.decide', loaded.config)) {
    const why = who.role === 'ict' ? ' (requests.ict_may_approve is false: the approval is the Headteacher’s)' : '';
    throw new RequestRefused({ request: `${who.name} (role ${who.role}) cannot approve or decline requests${why}` }, 403);
  }
  const outside = outsideScope(who.name, who.scope, loaded.config.shared ? loaded.config.site : undefined);
  if (outside) throw new RequestRefused({ request: outside }, 403);
  const r = await storage.requests.byId(id);
  if (!r) throw new RequestRefused({ request: `no request with id ${id}` }, 404);
  if (stateAt(r, who.at) !== 'pending') {
    throw new RequestRefused({ request: `request ${id} is ${stateAt(r, who.at)}: it can no longer be decided` }, 409);
  }
  try {
    if (decision === 'decline')
      return { request: await storage.requests.decline(id, note.trim(), changedBy(who)), exception: null };
    const exception = exceptionFor(r, who.name, loaded, who.at, 'until');
    return await storage.requests.approve(id, { exception, note: note.trim(), decidedBy: who.name }, changedBy(who));
  } catch (e) {
    if (e instanceof RequestChangeError) throw new RequestRefused({ request: e.message }, 409);
    throw e;
  }
}

/** A request's state as of `now`: a pending one past its due time is expired even before the sweep records it. */
export function stateAt(r: PermissionRequest, now: number): RequestState {
  return r.state === 'pending' && dueAt(r) <= now ? 'expired' : r.state;
}
