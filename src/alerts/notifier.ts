/**
 * The notifier other features call to tell people something through the configured alert channels
 * (e-mail and/or webhook), with the same queue, retries and metrics as the safeguarding alerts — for
 * example, telling approvers that a permission request is waiting. On the main thread it is
 * `Daemon.notifier` (the AlertsHost); in the console's pages it is `ctx.env.notify(n)` (the console
 * thread posts it to the main thread, which calls the AlertsHost). When no channel is configured, notifications are dropped (and
 * `notify` returns false), so callers need no config checks of their own.
 */
export interface Notification {
  /** The e-mail subject / card title, e.g. "Permission request from Mr Jones: youtube for 9B". */
  subject: string;
  /** The body in plain words; keep personal data to what the reader needs. */
  text: string;
  /** A console page to act on it (a full URL, or a path like "/requests/12" put under console.public_url). */
  link?: string | null;
  /** E-mail recipients instead of alerts.email.to (e.g. the approvers). The webhook gets it regardless. */
  to?: string[];
}

export interface Notifier {
  /** Queues the notification on every configured channel; false when alerts are not configured. */
  notify(n: Notification): boolean;
}
