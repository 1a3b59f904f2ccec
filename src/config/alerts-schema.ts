import { z } from 'zod';
import { parseClock } from '../time/schedule.js';
import { SIGNAL_KIND_NAMES } from '../signals/kinds.js';

/**
 * `alerts:`: telling the designated safeguarding lead about circumvention signals by e-mail and/or a
 * chat webhook, at once and in a daily digest. Part of the one config schema (see schema.ts). Off
 * unless the section names a channel. Credentials (an SMTP password, a webhook's secret URL) live in
 * `url_file`, never in the config, and are never logged.
 */

const SEVERITIES = ['low', 'medium', 'high'] as const;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** An e-mail address as people write it ("dsl@school.example"); no display names, no lists. */
export const address = z
  .string()
  .regex(/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/, 'is not an e-mail address (e.g. dsl@school.example)');

/** A URL with one of `protocols`, and no user or password in it (those belong in url_file). */
const urlWithout = (protocols: string[], what: string) =>
  z.string().superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return ctx.addIssue({ code: 'custom', message: `is not a URL (e.g. ${what})` });
    }
    if (!protocols.includes(u.protocol))
      ctx.addIssue({ code: 'custom', message: `must start with ${protocols.map((p) => `${p}//`).join(' or ')} (e.g. ${what})` });
    if (u.username || u.password)
      ctx.addIssue({
        code: 'custom',
        message: 'has a user or password: put the whole URL in a url_file readable only by webfilter',
      });
  });

export const emailAlertSchema = z
  .strictObject({
    /** The mail server, `smtp://host:587` (STARTTLS) or `smtps://host:465`; no credentials here. */
    smtp: urlWithout(['smtp:', 'smtps:'], 'smtp://mail.school.example:587').optional(),
    /** A file holding the whole SMTP URL with its user and password (relative to the config file). */
    url_file: z.string().min(1).optional(),
    /** Refuse to send unless the server offers TLS (STARTTLS on smtp://). Turn off only for a relay on the same host. */
    require_tls: z.boolean().default(true),
    from: address,
    /** Who gets the immediate alerts (the designated safeguarding lead and deputies). */
    to: z.array(address).min(1),
  })
  .refine((e) => e.smtp !== undefined || e.url_file !== undefined, {
    message: 'needs smtp (the server) or url_file (a file holding the SMTP URL with its credentials)',
    path: ['smtp'],
  });

export const webhookAlertSchema = z
  .strictObject({
    /** The webhook's URL (a Teams workflow, a Slack incoming webhook, or your own receiver). */
    url: urlWithout(['https:', 'http:'], 'https://hooks.example/…').optional(),
    /** A file holding the URL instead (a webhook URL is itself a password). */
    url_file: z.string().min(1).optional(),
    /** Payload shape: Teams (an Adaptive Card), Slack (text and blocks), or webfilter's own JSON. */
    format: z.enum(['teams', 'slack', 'json']).default('json'),
  })
  .refine((w) => (w.url === undefined) !== (w.url_file === undefined), {
    message: 'needs exactly one of url and url_file',
    path: ['url'],
  });

const immediateEntry = z.string().superRefine((s, ctx) => {
  if ((SIGNAL_KIND_NAMES as string[]).includes(s) || (SEVERITIES as readonly string[]).includes(s)) return;
  ctx.addIssue({
    code: 'custom',
    message: `"${s}" is neither a signal kind (${SIGNAL_KIND_NAMES.join(', ')}) nor a severity (${SEVERITIES.join(', ')})`,
  });
});

export const alertsSchema = z
  .strictObject({
    email: emailAlertSchema.optional(),
    webhook: webhookAlertSchema.optional(),
    /** Signal kinds, and severities, that alert at once (a signal alerts when its kind or its severity is listed). */
    immediate: z.array(immediateEntry).default(['high']),
    /** How long a device's first signal waits for others before its message goes (the alert is due within 60 s). */
    group_seconds: z.number().int().min(0).max(45).default(20),
    /** A kind already reported for a device is not reported again for this long (repeats go in the next message and the digest). */
    repeat_minutes: z.number().int().min(1).max(1440).default(30),
    /** Immediate messages per clock hour; past it, one "… and N more" message at the start of the next hour. */
    max_per_hour: z.number().int().min(1).max(1000).default(20),
    /** The day's summary, at a local time (config `timezone`); sent on "nothing to report" days too. */
    digest: z
      .strictObject({
        at: z
          .string()
          .refine((s) => parseClock(s) >= 0 && parseClock(s) < 1440, { message: 'is not a time "HH:MM" (00:00 to 23:59)' }),
        /** E-mail recipients of the digest (default: email.to). */
        to: z.array(address).min(1).optional(),
        days: z
          .array(z.enum(DAYS))
          .min(1)
          .default([...DAYS]),
      })
      .optional(),
  })
  .refine((a) => a.email !== undefined || a.webhook !== undefined, {
    message: 'name a channel: email, webhook or both (or leave the alerts section out)',
  })
  .refine((a) => a.digest?.to === undefined || a.email !== undefined, {
    message: 'digest.to needs the email channel (alerts.email) to send through',
    path: ['digest', 'to'],
  })
  .optional();

export type AlertsConfig = NonNullable<z.infer<typeof alertsSchema>>;

/** The files `alerts:` reads (credentials), with the YAML path of each (for load-time checks). */
export function alertFiles(alerts: z.infer<typeof alertsSchema>): { yamlPath: (string | number)[]; file: string }[] {
  const out: { yamlPath: (string | number)[]; file: string }[] = [];
  if (alerts?.email?.url_file) out.push({ yamlPath: ['alerts', 'email', 'url_file'], file: alerts.email.url_file });
  if (alerts?.webhook?.url_file) out.push({ yamlPath: ['alerts', 'webhook', 'url_file'], file: alerts.webhook.url_file });
  return out;
}
