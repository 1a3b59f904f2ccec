import { formatHostPort } from '../config/host-port.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { accountOf, cannotRead, cannotWriteDatabase, currentAccount, widerThan, type Account } from '../config/service-user.js';
import { storageLocation } from '../storage/open.js';
import { tlsSource, TLS_CREDENTIALS } from '../console/tls-files.js';
import { compilePolicy, ListLoadError } from '../policy/compile.js';
import { displayUrl } from '../lists/source.js';
import { emptyListWarnings } from '../policy/empty-lists.js';
import { count } from '../text/plural.js';
import { AlertSettingsError, readAlertSettings } from '../alerts/alert-settings.js';

/** Maximum skipped list lines printed per category (the total is always given). */
const SHOW_PROBLEMS = 20;

/**
 * `webfilter config check FILE`: validates the config and reads every list. Prints every problem
 * with its YAML path (errors → exit 1) and every skipped list line with file:line (warnings).
 */
export async function checkConfig(
  file: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  opts: { as?: string } = {},
): Promise<number> {
  try {
    const loaded = await loadConfig(file);
    const compiled = await compilePolicy(loaded);
    // The alert credentials' files must hold a usable URL (what they hold is never printed).
    await readAlertSettings(loaded).catch((e) => {
      throw e instanceof AlertSettingsError ? new ConfigError(loaded.file, [e.message]) : e;
    });
    const access = checkAccess(loaded, opts.as);
    if (access.problems.length > 0) {
      err.write(`${loaded.file}: ${access.problems.length} problem${access.problems.length === 1 ? '' : 's'} ${access.as}\n`);
      for (const p of access.problems) err.write(`  ${p}\n`);
      return 1;
    }
    for (const w of access.warnings) err.write(`warning: ${w}\n`);
    let warnings = 0;
    for (const r of compiled.reports) {
      warnings += r.problems.length;
      for (const p of r.problems.slice(0, SHOW_PROBLEMS)) {
        err.write(`warning: ${p.file}:${p.line}: ${p.reason}; line skipped: ${JSON.stringify(p.text)}\n`);
      }
      if (r.problems.length > SHOW_PROBLEMS)
        err.write(`warning: ${r.category}: ${r.problems.length - SHOW_PROBLEMS} more lines skipped\n`);
      // A subscription is not fetched here (config check needs no network): say what the daemon will start with.
      for (const [url, state] of r.subscriptions) {
        if (!state?.body)
          err.write(`note: ${r.category}: ${displayUrl(url)} has no stored copy yet; the daemon fetches it at start\n`);
      }
    }
    for (const w of emptyListWarnings(compiled.reports, compiled.policy.infos)) err.write(`warning: ${w}\n`);
    const entries = compiled.reports.reduce((n, r) => n + r.entries, 0);
    const upstreams = loaded.upstreams.map((u) => u.name).join(', ');
    out.write(
      `${loaded.file}: OK — ${count(compiled.reports.length, 'category', 'categories')} ` +
        `(${count(entries, 'list entry', 'list entries')}), ${count(compiled.policy.groups.size, 'group')}, ` +
        `${loaded.upstreams.length === 1 ? 'upstream' : 'upstreams'} ${upstreams}` +
        loaded.zones.map((z) => `; zone ${z.zone} → ${z.servers.map(formatHostPort).join(', ')}`).join('') +
        (loaded.config.alerts
          ? `; alerts by ${[loaded.config.alerts.email ? 'e-mail' : '', loaded.config.alerts.webhook ? 'webhook' : ''].filter(Boolean).join(' and ')}`
          : '') +
        `${warnings ? `, ${count(warnings, 'list line')} skipped` : ''}\n`,
    );
    err.write(`note: files ${access.as}${access.note ? `; ${access.note}` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.file}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}\n`);
      for (const p of e.problems) err.write(`  ${p}\n`);
    } else if (e instanceof ListLoadError) {
      err.write(`${file}: ${e.message}\n`);
    } else {
      throw e;
    }
    return 1;
  }
}

/**
 * The files the daemon's user must be able to use: the console's certificate and key (the systemd
 * credential when there is one), and the database's directory (created and written at start).
 * Checked as `--as USER`, else as `server.user` when run as root, else as whoever runs this (under
 * systemd's ExecStartPre: the service user).
 */
function checkAccess(loaded: LoadedConfig, as?: string): { as: string; note: string; problems: string[]; warnings: string[] } {
  const { server, console: consoleConfig } = loaded.config;
  const me = currentAccount();
  let who: Account;
  try {
    if (as) who = accountOf(as, as === server.user ? server.group : undefined);
    else if (me.uid === 0 && server.user) who = accountOf(server.user, server.group);
    else who = me;
  } catch (e) {
    return {
      as: 'checking access',
      note: '',
      problems: [`${as ? '--as' : 'server.user'}: ${(e as Error).message}`],
      warnings: [],
    };
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  if (consoleConfig.enabled) {
    for (const part of ['cert', 'key'] as const) {
      const source = tlsSource(loaded, part);
      if (!source) continue;
      const why = cannotRead(source, who);
      if (why) {
        problems.push(
          `console.tls.${part}: ${why}` +
            (part === 'key'
              ? ` (a key only root may read reaches the daemon under systemd as a credential: LoadCredential=${TLS_CREDENTIALS.key}:${source})`
              : ''),
        );
      }
    }
  }
  const { evidencePath, accountsPath } = storageLocation(loaded);
  const db = cannotWriteDatabase(evidencePath, who) ?? cannotWriteDatabase(accountsPath, who);
  if (db) problems.push(`database.path: ${db}`);
  const wide = widerThan(accountsPath, 0o600);
  if (wide)
    warnings.push(
      `database.path: ${accountsPath} (the console accounts and the access audit) has mode ${wide}, but only ` +
        'the service user may read it: webfilter makes it 0600 again when it next opens it',
    );
  const checked = `checked as ${who.name} (uid ${who.uid})`;
  const note =
    who.uid === 0
      ? 'root reads everything: check as the service user with --as USER (the systemd unit’s ExecStartPre runs as it)'
      : '';
  return { as: problems.length ? `for ${who.name} (uid ${who.uid})` : checked, note, problems, warnings };
}
