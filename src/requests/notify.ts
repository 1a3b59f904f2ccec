import type { Notification } from '../alerts/notifier.js';
import type { PermissionRequest } from '../storage/requests.js';
import { formatShort } from '../time/local-time.js';

/**
 * The message that tells approvers of requests waiting for them, sent through the alert channels'
 * notifier (alerts/notifier.ts): who asked, for which class, what, when and why, and a link to the
 * Requests page. Nothing about any pupil or device (it may travel by e-mail).
 */
export function pendingNotification(requests: PermissionRequest[], to: string[] | undefined): Notification {
  const lines = requests.map((r) => {
    const when = r.lesson
      ? `lesson ${r.lesson}`
      : `${r.startsAt === null ? 'now' : formatShort(r.startsAt)} until ${formatShort(r.expiresAt)}`;
    return `Request ${r.id}: ${r.requestedBy} asks to open ${r.categories.join(', ')} for ${r.group}, ${when}. Reason: ${r.reason}`;
  });
  const [first] = requests;
  return {
    subject:
      requests.length === 1
        ? `Permission request from ${first.requestedBy}: ${first.categories.join(', ')} for ${first.group}`
        : `${requests.length} permission requests wait for a decision`,
    text: `${lines.join('\n')}\n\nApprove or decline it on the review console's Requests page. A request not decided before it starts expires.`,
    link: '/requests',
    ...(to ? { to } : {}),
  };
}
