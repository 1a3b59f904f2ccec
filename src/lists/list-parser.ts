import { normaliseDomain } from '../dns/name.js';

/** One usable line of a blocklist. */
export interface ListEntry {
  /** Lower-case ASCII (punycode) domain without trailing dot; it covers all its subdomains. */
  domain: string;
  /** An `@@||d^` allow entry: beats block entries of the same category. */
  allow: boolean;
  /** 1-based line number in the file. */
  line: number;
  /** The line's comment starts `# front-end`: a platform's alternative front-end (see FRONT_END). */
  frontEnd: boolean;
}

/** A line that was skipped, with where and why. */
export interface ListProblem {
  file: string;
  line: number;
  text: string;
  reason: string;
}

export interface ParsedList {
  entries: ListEntry[];
  problems: ListProblem[];
}

// Names found in hosts files that describe the machine itself, not something to block.
const HOSTS_SELF = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);
/**
 * The comment that marks an entry as a platform's alternative front-end (`xcancel.com  # front-end:
 * Nitter`): a lookup of one is the platform's blocked attempt and a web-proxy signal.
 */
const FRONT_END = /\s#\s*front-end\b/;
const HOSTS_IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

/**
 * Parses a list in any of the accepted formats: plain domains, hosts-file lines (`0.0.0.0 d`),
 * adblock `||d^` and `@@||d^`, `*.d`, comments (`#`, `!`) and blank lines.
 * Bad lines are returned as problems (file:line and reason) and skipped.
 */
export function parseList(text: string, file: string): ParsedList {
  const entries: ListEntry[] = [];
  const problems: ListProblem[] = [];
  forEachListEntry(
    text,
    file,
    (domain, allow, line, frontEnd) => entries.push({ domain, allow, line, frontEnd }),
    (p) => problems.push(p),
  );
  return { entries, problems };
}

/**
 * `parseList` without building arrays: each entry goes to `onEntry` as it is read. Loading a
 * million-line list this way keeps no per-line objects alive (the peak memory of a load).
 */
export function forEachListEntry(
  text: string,
  file: string,
  onEntry: (domain: string, allow: boolean, line: number, frontEnd: boolean) => void,
  onProblem: (p: ListProblem) => void,
): void {
  for (let start = 0, i = 0; start < text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    start = end + 1;
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === '!' || (line[0] === '[' && line.endsWith(']'))) continue;
    const lineNo = i + 1;
    const fail = (reason: string) => onProblem({ file, line: lineNo, text: raw.replace(/\r$/, ''), reason });

    if (line.startsWith('||') || line.startsWith('@@||')) {
      const allow = line.startsWith('@@');
      const m = /^(?:@@)?\|\|([^\^$|/]+)\^(?:\$(.*))?$/.exec(line);
      if (!m) {
        fail('adblock rule must look like ||example.com^ or @@||example.com^');
        continue;
      }
      if (m[2] !== undefined && m[2] !== 'important') {
        fail(`adblock modifier "$${m[2]}" is not supported by a DNS filter`);
        continue;
      }
      addDomain(m[1], allow, false);
      continue;
    }

    const frontEnd = line.includes('#') && FRONT_END.test(line);
    const tokens = line.replace(/\s+#.*$/, '').split(/\s+/);
    if (HOSTS_IP.test(tokens[0]) && tokens.length >= 2) {
      for (const name of tokens.slice(1)) {
        if (!HOSTS_SELF.has(name.toLowerCase())) addDomain(name, false, frontEnd);
      }
      continue;
    }
    if (tokens.length !== 1) {
      fail('expected one domain per line (or a hosts-file line "0.0.0.0 domain")');
      continue;
    }
    addDomain(tokens[0].startsWith('*.') ? tokens[0].slice(2) : tokens[0], false, frontEnd);

    function addDomain(name: string, allow: boolean, frontEnd: boolean): void {
      const domain = normaliseDomain(name);
      if (typeof domain === 'string') onEntry(domain, allow, lineNo, frontEnd);
      else fail(domain.error);
    }
  }
}
