import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces one bench's section of a shared Markdown file (between `<!-- begin NAME -->` and
 * `<!-- end NAME -->`), or appends it, leaving the other benches' sections as they were: two
 * benches (alerts.ts, alert-delay.ts) write bench/alerts.md, each re-runnable alone.
 */
export function writeSection(file: string, name: string, body: string): void {
  const begin = `<!-- begin ${name} -->`;
  const end = `<!-- end ${name} -->`;
  const block = `${begin}\n${body.trimEnd()}\n${end}\n`;
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = old.indexOf(begin);
  const b = old.indexOf(end);
  const next =
    a >= 0 && b > a
      ? old.slice(0, a) + block + old.slice(b + end.length).replace(/^\n/, '')
      : `${old.trimEnd()}${old ? '\n\n' : ''}${block}`;
  writeFileSync(file, next);
}
