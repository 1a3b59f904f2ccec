import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * Least privilege for a daemon started as root (e.g. by hand or from a non-systemd init): bind the
 * privileged port first, then switch for good to an unprivileged user and group. Under systemd the
 * unit starts the daemon as its own user with CAP_NET_BIND_SERVICE instead, and this is a no-op.
 */

export interface PrivilegeSettings {
  user?: string;
  group?: string;
}

/** What happened, for the start-up log line. */
export interface PrivilegeOutcome {
  uid: number;
  gid: number;
  dropped: boolean;
}

/**
 * Switches to `user`/`group` when running as root. Throws (naming the config key) when a user is
 * configured that the process cannot become, or when still root afterwards; a daemon that meant to
 * drop privileges never keeps serving as root.
 */
export function dropPrivileges(s: PrivilegeSettings): PrivilegeOutcome {
  const ids = () => ({ uid: process.getuid!(), gid: process.getgid!() });
  if (!s.user && !s.group) return { ...ids(), dropped: false };
  if (!s.user) throw new Error('server.group: set server.user too (a root process that only changes group is still root)');
  if (typeof process.setuid !== 'function') throw new Error('server.user: switching user is not supported on this platform');
  if (process.getuid!() !== 0) {
    // Already unprivileged (e.g. systemd's User=): fine if it is the configured user.
    if (s.user && !isCurrentUser(s.user)) {
      throw new Error(
        `server.user: "${s.user}" is configured but webfilter runs as uid ${process.getuid!()}, not root, and cannot switch`,
      );
    }
    return { ...ids(), dropped: false };
  }
  const user = s.user;
  try {
    // Groups first: once the user is switched, the process may no longer change them. Without a
    // configured group, the user's own groups (from /etc/group) apply.
    if (s.group) {
      process.setgid!(s.group);
      process.setgroups!([s.group]);
    } else {
      (process as unknown as { initgroups(user: string, group: number): void }).initgroups(user, userGid(user));
      process.setgid!(userGid(user));
    }
    process.setuid!(user);
  } catch (e) {
    throw new Error(`server.user: cannot switch to ${user}${s.group ? `:${s.group}` : ''}: ${(e as Error).message}`);
  }
  if (process.getuid!() === 0 || process.geteuid!() === 0) throw new Error('server.user: still root after switching');
  return { ...ids(), dropped: true };
}

function isCurrentUser(user: string): boolean {
  if (/^\d+$/.test(user)) return Number(user) === process.getuid!();
  return userInfo().username === user;
}

/** The primary group of a user, from the passwd database. */
function userGid(user: string): number {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && (f[0] === user || f[2] === user)) return Number(f[3]);
  }
  throw new Error(`no such user in /etc/passwd (set server.group to choose a group)`);
}
