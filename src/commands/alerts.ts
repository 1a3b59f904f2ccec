import type { Argv } from 'yargs';
import { pino } from 'pino';
import { AlertService } from '../alerts/alert-service.js';
import { AlertSettingsError, readAlertSettings } from '../alerts/alert-settings.js';
import { systemClock } from '../alerts/clock.js';
import { json } from '../format/output.js';
import { loadForCli, out } from './context.js';
import { CommandError } from './errors.js';

/**
 * `webfilter alerts test`: sends a test message on every configured channel, straight from this
 * command (not through the daemon's queue), and reports each result — for ICT setting alerts up.
 * Exit 1 when any channel failed.
 */
export function alertsCommands(y: Argv<{ config: string; json: boolean }>) {
  return y
    .command(
      'test',
      'Send a test message on every configured alert channel and say how each went',
      (c) =>
        c
          .example('$0 alerts test', 'After setting up alerts: does the DSL get the e-mail, does the Teams channel get the card?')
          .example('sudo $0 alerts test', 'When url_file is readable by root and webfilter only'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        let settings;
        try {
          settings = await readAlertSettings(loaded);
        } catch (e) {
          if (e instanceof AlertSettingsError) throw new CommandError(e.message);
          throw e;
        }
        if (!settings) throw new CommandError(`${loaded.file} has no alerts section: nothing to test (see README, "Alerts")`);
        const service = new AlertService(settings, { clock: systemClock, log: pino({ level: 'silent' }), onResult: () => {} });
        const results = await service.test();
        service.close();
        if (a.json) out(json({ public_url: settings.publicUrl, results }));
        else {
          for (const r of results)
            out(`${r.channel.padEnd(8)} ${r.target}: ${r.ok ? 'sent' : `FAILED — ${r.error}`} (${(r.ms / 1000).toFixed(1)} s)\n`);
          if (!settings.publicUrl) out('note: console.public_url is not set, so alerts carry no link to the device page\n');
        }
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      },
    )
    .demandCommand(1, 'Name an alerts command: test');
}
