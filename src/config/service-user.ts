import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';

/**
 * Whether the daemon's user can read and write the files the config names, checked by
 * `config check` before the daemon is started (systemd's ExecStartPre runs it as the service user).
 */

/** A user as file permissions see it. */
export interface Account {
  name: string;
  uid: number;
  /** The primary group first, then the supplementary ones. */
  gids: number[];
}

/** Who runs this process. */
export function currentAccount(): Account {
  return { name: userInfo().username, uid: process.getuid!(), gids: [process.getgid!(), ...process.getgroups!()] };
}

/**
 * A user from the passwd and group databases, with the groups the daemon would have after
 * switching to it (server/privileges.ts): `group` alone when given, else the user's own groups.
 */
export function accountOf(user: string, group?: string, etc = '/etc'): Account {
  const passwd = readFileSync(path.join(etc, 'passwd'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  const groups = readFileSync(path.join(etc, 'group'), 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  const u = passwd.find((f) => f.length >= 4 && (f[0] === user || f[2] === user));
  if (!u) throw new Error(`no user "${user}" in ${etc}/passwd`);
  const gidOf = (g: string) => {
    const row = groups.find((f) => f.length >= 3 && (f[0] === g || f[2] === g));
    if (!row) throw new Error(`no group "${g}" in ${etc}/group`);
    return Number(row[2]);
  };
  const gids = group
    ? [gidOf(group)]
    : [Number(u[3]), ...groups.filter((f) => (f[3] ?? '').split(',').includes(u[0])).map((f) => Number(f[2]))];
  return { name: u[0], uid: Number(u[2]), gids };
}

/** True when `who` has the `bits` (4 read, 2 write, 1 execute/search) on an existing path. */
function allowed(p: string, who: Account, bits: number): boolean {
  if (who.uid === 0) return true;
  const me = currentAccount();
  if (who.uid === me.uid) {
    const mode = (bits & 4 ? constants.R_OK : 0) | (bits & 2 ? constants.W_OK : 0) | (bits & 1 ? constants.X_OK : 0);
    try {
      accessSync(p, mode);
      return true;
    } catch {
      return false;
    }
  }
  const st = statSync(p);
  const shift = st.uid === who.uid ? 6 : who.gids.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

/** The first directory on the way to `file` that `who` cannot pass through, or null. */
function blockedOnTheWay(file: string, who: Account): string | null {
  let dir = path.dirname(path.resolve(file));
  const chain: string[] = [];
  while (true) {
    chain.unshift(dir);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain) {
    try {
      statSync(d);
    } catch {
      return null; // does not exist (yet): the caller says what that means
    }
    if (!allowed(d, who, 1)) return d;
  }
  return null;
}

/** Why `who` cannot read `file`, or null when it can. */
export function cannotRead(file: string, who: Account): string | null {
  const blocked = blockedOnTheWay(file, who);
  if (blocked) return `${who.name} cannot enter ${blocked}`;
  try {
    statSync(file);
  } catch (e) {
    return `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`;
  }
  return allowed(file, who, 4) ? null : `${file} is not readable by ${who.name}`;
}

/**
 * Why `who` could not create (with its directory) or write the database `file`, or null when it
 * could. SQLite also writes `-wal` and `-shm` files beside it, so the directory must be writable.
 */
export function cannotWriteDatabase(file: string, who: Account): string | null {
  const blocked = blockedOnTheWay(file, who);
  if (blocked) return `${who.name} cannot enter ${blocked}`;
  let dir = path.dirname(path.resolve(file));
  let missing = false;
  for (;;) {
    try {
      if (!statSync(dir).isDirectory()) return `${dir} is not a directory (on the way to ${file})`;
      break;
    } catch {
      missing = true;
      dir = path.dirname(dir);
    }
  }
  if (!allowed(dir, who, 3)) {
    return missing
      ? `cannot create the directory of ${file}: ${dir} is not writable by ${who.name}`
      : `${dir} is not writable by ${who.name} (the database and its -wal/-shm files are written there)`;
  }
  try {
    statSync(file);
  } catch {
    return null; // created on first start
  }
  return allowed(file, who, 6) ? null : `${file} is not readable and writable by ${who.name}`;
}

/** The mode of an existing `file` (e.g. "0640") when it allows more than `mode`, else null. */
export function widerThan(file: string, mode: number): string | null {
  try {
    const actual = statSync(file).mode & 0o777;
    return actual & ~mode ? actual.toString(8).padStart(4, '0') : null;
  } catch {
    return null;
  }
}
