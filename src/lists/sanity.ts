import { forEachListEntry, type ListProblem } from './list-parser.js';
import { count } from '../text/plural.js';

/** A downloaded list that passed the sanity check: its entries (as keys, for the diff) and bad lines. */
export interface CheckedList {
  ok: true;
  entries: number;
  /** "d" for a block entry, "@@d" for an allow entry (the set the diff compares). */
  keys: Set<string>;
  problems: ListProblem[];
}

/**
 * Decides whether a downloaded body is a list at all, parsed with the daemon's own list parser (bad
 * lines reported as URL:line). Refused: an empty body, an HTML page (a captive portal, an error page
 * served with 200), a body with no entries, and one where most lines are not list lines.
 */
export function checkListBody(text: string, url: string, contentType: string): CheckedList | { ok: false; reason: string } {
  if (text.trim() === '') return { ok: false, reason: 'the body is empty' };
  if (/\bhtml\b/i.test(contentType) || /^\s*</.test(text)) {
    return { ok: false, reason: `it looks like an HTML page, not a list (content-type "${contentType || 'none'}")` };
  }
  const keys = new Set<string>();
  const problems: ListProblem[] = [];
  let entries = 0;
  forEachListEntry(
    text,
    url,
    (domain, allow) => {
      entries++;
      keys.add(allow ? `@@${domain}` : domain);
    },
    (p) => problems.push(p),
  );
  if (entries === 0) return { ok: false, reason: `no list entries in it (${count(problems.length, 'unreadable line')})` };
  if (problems.length > entries) {
    return {
      ok: false,
      reason: `mostly not list lines: ${problems.length} of ${problems.length + entries} lines unreadable (first: ${problems[0].file}:${problems[0].line}: ${problems[0].reason})`,
    };
  }
  return { ok: true, entries, keys, problems };
}

/** The entry keys of a stored copy (for the +added −removed of an update). */
export function listKeys(text: string, url: string): Set<string> {
  const keys = new Set<string>();
  forEachListEntry(
    text,
    url,
    (domain, allow) => keys.add(allow ? `@@${domain}` : domain),
    () => {},
  );
  return keys;
}
