import type { PermissionRequest } from '../storage/requests.js';
import { formatShort } from '../time/local-time.js';

/**
 * How approvers hear of a request waiting for them, beyond the Requests page. The alert channels
 * (e-mail, Teams/Slack webhook: issue 18) implement this when they are configured; until then
 * nothing is sent and `enabled` is false, so requests stay marked as not yet announced and are
 * announced once a channel exists (if still pending).
 */
export interface RequestNotifier {
  readonly enabled: boolean;
  /** Sends one message about these pending requests; throws when it could not (they are tried again). */
  pending(requests: PermissionRequest[], consoleUrl: string | null): Promise<void>;
}

/** No channel configured. */
export const NO_NOTIFIER: RequestNotifier = { enabled: false, pending: async () => {} };

/**
 * The message for approvers: who asked, for which class, what, when and why, and where to decide.
 * Nothing about any pupil or device (it may travel by e-mail).
 */
export function pendingMessage(requests: PermissionRequest[], consoleUrl: string | null): { subject: string; text: string } {
  const lines = requests.map((r) => {
    const when = r.lesson
      ? `lesson ${r.lesson}`
      : `${r.startsAt === null ? 'now' : formatShort(r.startsAt)} until ${formatShort(r.expiresAt)}`;
    return `- Request ${r.id}: ${r.requestedBy} asks to open ${r.categories.join(', ')} for ${r.group}, ${when}. Reason: ${r.reason}`;
  });
  const where = consoleUrl
    ? `Approve or decline: ${consoleUrl.replace(/\/$/, '')}/requests`
    : 'Approve or decline on the review console’s Requests page.';
  return {
    subject:
      requests.length === 1
        ? `webfilter: ${requests[0].requestedBy} asks permission for ${requests[0].group}`
        : `webfilter: ${requests.length} permission requests wait for a decision`,
    text: `${lines.join('\n')}\n\nA request not decided before it starts expires.\n${where}\n`,
  };
}
