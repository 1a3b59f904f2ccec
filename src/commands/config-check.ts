import { formatHostPort } from '../config/host-port.js';
import { ConfigError, loadConfig } from '../config/load.js';
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
export async function checkConfig(file: string, out = process.stdout, err = process.stderr): Promise<number> {
  try {
    const loaded = await loadConfig(file);
    const compiled = await compilePolicy(loaded);
    // The alert credentials' files must hold a usable URL (what they hold is never printed).
    await readAlertSettings(loaded).catch((e) => {
      throw e instanceof AlertSettingsError ? new ConfigError(loaded.file, [e.message]) : e;
    });
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
