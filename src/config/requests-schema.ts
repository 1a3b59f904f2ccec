import { z } from 'zod';
import { RESERVED_CATEGORIES } from '../signals/kinds.js';
import { address } from './alerts-schema.js';
import { duration } from './field-types.js';

/**
 * `requests:`: teachers ask for a category for their class, an approver (the Headteacher or a named
 * deputy) decides, and an approved request becomes an exception. Part of the one config schema
 * (see schema.ts, which runs `checkRequests` among its cross-field rules).
 */

const DAY = 86_400_000;

export const requestsSchema = z
  .strictObject({
    /**
     * The schedule whose windows are the lesson periods: "until the end of this lesson" and "this
     * lesson on Tuesday" are computed from it. Without it, requests give their times.
     */
    lessons: z.string().optional(),
    /** Longest a request may ask for (an exception is also held to `exceptions.max_duration`). */
    max_duration: duration(60_000, 30 * DAY).default('1d'),
    /** How far ahead a request may start ("this lesson in two weeks"). */
    max_ahead: duration(60_000, 365 * DAY).default('14d'),
    /** ICT accounts may approve too; off by default, so that the approval is the Headteacher's. */
    ict_may_approve: z.boolean().default(false),
    /**
     * Standing permission: group → categories whose requests are approved as they are made (still
     * recorded with who asked, when and for how long).
     */
    auto_approve: z.record(z.string(), z.array(z.string()).min(1)).default({}),
    /**
     * The approvers' e-mail addresses: told of each request waiting for a decision, through the alert
     * channels (`alerts:`); without it, alerts.email.to. The webhook channel is told either way.
     */
    notify_to: z.array(address).min(1).optional(),
  })
  .prefault({});

export type RequestsConfig = z.infer<typeof requestsSchema>;

/** One problem found by a cross-field rule, with its YAML path. */
export interface CrossIssue {
  path: (string | number)[];
  message: string;
}

const isRecord = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The `requests:` rules that need the rest of the config: `lessons` names a schedule, and
 * `auto_approve` names groups and openable categories (never a locked one or a circumvention rule).
 * The input may be partly malformed (other fields already failed), so every read is checked.
 */
export function checkRequests(cfg: Record<string, unknown>): CrossIssue[] {
  const out: CrossIssue[] = [];
  const requests = cfg.requests;
  if (!isRecord(requests)) return out;
  const schedules = isRecord(cfg.schedules) ? cfg.schedules : {};
  const groups = isRecord(cfg.groups) ? cfg.groups : {};
  const categories = isRecord(cfg.categories) ? cfg.categories : {};
  const names = (r: Record<string, unknown>) => Object.keys(r).join(', ') || 'none defined';
  if (typeof requests.lessons === 'string' && !Object.hasOwn(schedules, requests.lessons)) {
    out.push({
      path: ['requests', 'lessons'],
      message: `unknown schedule "${requests.lessons}" (schedules: ${names(schedules)})`,
    });
  }
  const auto = isRecord(requests.auto_approve) ? requests.auto_approve : {};
  for (const [group, cats] of Object.entries(auto)) {
    if (!Object.hasOwn(groups, group)) {
      out.push({ path: ['requests', 'auto_approve', group], message: `unknown group "${group}" (groups: ${names(groups)})` });
    }
    (Array.isArray(cats) ? cats : []).forEach((c: unknown, i: number) => {
      const path = ['requests', 'auto_approve', group, i];
      if (typeof c !== 'string') return;
      if (RESERVED_CATEGORIES.includes(c)) {
        out.push({ path, message: `"${c}" is a circumvention rule: nothing may open it` });
      } else if (!Object.hasOwn(categories, c)) {
        out.push({ path, message: `unknown category "${c}" (categories: ${names(categories)})` });
      } else if (isRecord(categories[c]) && categories[c].locked === true) {
        out.push({ path, message: `"${c}" is locked: nothing may open it` });
      }
    });
  }
  return out;
}
