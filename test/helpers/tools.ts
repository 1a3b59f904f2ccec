/**
 * The real programs the tests run against (dig, kdig, unbound, nsd, PostgreSQL, Chromium, …) come
 * from Debian: `scripts/test-tools.sh` installs them (the README's test command runs it). A test
 * whose tool is missing fails with the package to install; it never skips silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package of each tool the tests use. */
const PACKAGE: Record<string, string> = {
  dig: 'dnsutils',
  delv: 'dnsutils',
  nsupdate: 'dnsutils',
  kdig: 'knot-dnsutils',
  nsd: 'nsd',
  knotd: 'knot',
  unbound: 'unbound',
  'ldns-signzone': 'ldnsutils',
  'ldns-keygen': 'ldnsutils',
  promtool: 'prometheus',
  prometheus: 'prometheus',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
  openssl: 'openssl',
  radclient: 'freeradius-utils',
  mount: 'mount',
  '/usr/bin/python3': 'python3',
  faketime: 'faketime',
  '/usr/lib/postgresql/15/bin/initdb': 'postgresql',
  '/usr/lib/postgresql/15/bin/postgres': 'postgresql',
  runuser: 'util-linux',
};

/** Returns the tool's path; throws naming the Debian package when it is not installed. */
export function needTool(cmd: string): string {
  if (cmd.startsWith('/')) {
    if (existsSync(cmd)) return cmd;
  } else {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error(
    `${cmd} is not installed (Debian package ${PACKAGE[cmd] ?? '?'}): run scripts/test-tools.sh, which installs every tool the tests use`,
  );
}
