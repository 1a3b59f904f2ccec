import type { Argv } from 'yargs';
import { json } from '../format/output.js';
import { recordReview, ReviewRequestError } from '../review/signal-review.js';
import { REVIEW_OUTCOMES } from '../storage/signal-reviews.js';
import { formatShort } from '../time/local-time.js';
import { actor, loadForCli, openStore, out } from './context.js';
import { CommandError } from './errors.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import { commandReads, scopeOptions } from './review-scope.js';

/**
 * PostgreSQL is unreachable (issue 17): nothing was recorded, and what still works, as the other
 * review commands point to --local (review-scope.ts). A signal this filter recorded is in its own
 * copy, by that copy's number; a review made there is shipped with its audit row when the store is
 * back, and fills the shared signal's review unless one was made there meanwhile (evidence-inbox.ts).
 */
function localHint(node: string): string {
  return (
    "Nothing was recorded: signals are reviewed in the trust's shared store. A signal this filter " +
    `(${node}) recorded can be reviewed in its own copy meanwhile: find its number there with ` +
    '`webfilter logs signals --local`, then run `webfilter signal review NUMBER --local` with the same outcome and note. ' +
    'The review is shipped to the shared store, with its audit, when the connection returns ' +
    '(a review made there in the meantime is kept). DNS filtering is unaffected.'
  );
}

/** `webfilter signal review ID --outcome … --note …`: record what was done about a signal. */
export function signalCommands(y: Argv<{ config: string; json: boolean }>) {
  return y
    .command(
      'review <id>',
      'Record what was done about a circumvention signal (outcome and a note); changes no policy',
      (c) =>
        scopeOptions(c)
          .positional('id', { type: 'number', demandOption: true, describe: 'Signal number (logs signals shows it as ID)' })
          .option('outcome', { choices: REVIEW_OUTCOMES, demandOption: true, describe: 'What was done' })
          .option('note', { type: 'string', default: '', describe: 'A short note (kept with the signal, audited)' })
          .example('$0 signal review 12 --outcome sanction --note "Spoke to Y9 student, parents informed"', 'Close a case')
          .example('$0 logs signals --unreviewed --since 7d', 'What is still waiting for a review'),
      async (a) => {
        const loaded = await loadForCli(a.config);
        const store = await openStore(loaded);
        let s;
        try {
          // With shared, the signal is the shared store's (its number as logs signals shows it), within the reader's sites.
          const reads = await commandReads(loaded, store, a, `signal review ${a.id}`);
          s = await recordReview(reads.signalReviews, {
            id: a.id,
            outcome: a.outcome,
            note: a.note,
            by: actor(),
            ip: 'cli',
            at: Date.now(),
          });
        } catch (e) {
          if (e instanceof ReviewRequestError) throw new CommandError(`nothing was recorded: ${e.message}`);
          if (e instanceof SharedUnavailableError) throw new CommandError(`${e.message}\n${localHint(loaded.config.node)}`);
          throw new CommandError((e as Error).message);
        } finally {
          await store.close();
        }
        if (a.json) return out(json(s));
        out(
          `Signal ${s.id} (${s.kind} by ${s.device || s.client}, ${formatShort(Date.parse(s.first_seen))}) reviewed: ${s.review!.outcome} by ${s.review!.by}.\n`,
        );
      },
    )
    .demandCommand(1, 'Name a signal command: review');
}
