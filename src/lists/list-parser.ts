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
    parseLine(text.slice(start, end), i + 1, file, onEntry, onProblem);
    start = end + 1;
  }
}

/**
 * Bytes a plain domain line may hold for the byte path: a-z 0-9 - _ and the dot. Anything else
 * (upper case, spaces, #, !, |, @, *, non-ASCII) sends the line to the string path.
 */
const PLAIN = new Uint8Array(256);
for (let c = 0x61; c <= 0x7a; c++) PLAIN[c] = 1;
for (let c = 0x30; c <= 0x39; c++) PLAIN[c] = 1;
PLAIN[0x2d] = PLAIN[0x5f] = PLAIN[0x2e] = 1;
const NL = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const HYPHEN = 0x2d;

/**
 * `forEachListEntry` over the file's bytes (UTF-8), for the daemon's load: a line that is already a
 * valid lower-case domain (the bulk of any big list) goes to `onPlain` as the byte range
 * [start, end) — no string is made for it — and every other line is decoded and parsed exactly as
 * `forEachListEntry` does (entries to `onEntry`, problems to `onProblem`). A byte range is what
 * `normaliseDomain` would return for that line: no trailing dot, 1-253 characters, labels of 1-63
 * of a-z 0-9 - _ not starting or ending with "-", and a last label that is not all digits.
 */
export function forEachListEntryBytes(
  bytes: Uint8Array,
  file: string,
  onPlain: (bytes: Uint8Array, start: number, end: number) => void,
  onEntry: (domain: string, allow: boolean, line: number, frontEnd: boolean) => void,
  onProblem: (p: ListProblem) => void,
): void {
  const n = bytes.length;
  const decoder = new TextDecoder();
  for (let start = 0, lineNo = 1; start < n; lineNo++) {
    let end = bytes.indexOf(NL, start);
    if (end < 0) end = n;
    const next = end + 1;
    let stop = end;
    if (stop > start && bytes[stop - 1] === CR) stop--;
    if (stop > start && bytes[stop - 1] === DOT) stop--;
    if (!plainDomain(bytes, start, stop)) {
      parseLine(decoder.decode(bytes.subarray(start, end)), lineNo, file, onEntry, onProblem);
    } else onPlain(bytes, start, stop);
    start = next;
  }
}

/** Whether bytes[start, end) is a domain `normaliseDomain` returns unchanged (see forEachListEntryBytes). */
function plainDomain(b: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 253) return false;
  let labelStart = start;
  let digitsOnly = true;
  for (let i = start; i <= end; i++) {
    const c = i < end ? b[i] : DOT;
    if (c === DOT) {
      const len = i - labelStart;
      if (len === 0 || len > 63 || b[labelStart] === HYPHEN || b[i - 1] === HYPHEN) return false;
      if (i < end) {
        labelStart = i + 1;
        digitsOnly = true;
      }
      continue;
    }
    if (PLAIN[c] === 0) return false;
    if (c < 0x30 || c > 0x39) digitsOnly = false;
  }
  return !digitsOnly;
}

/** One line of a list (without its newline), numbered `lineNo`. */
function parseLine(
  raw: string,
  lineNo: number,
  file: string,
  onEntry: (domain: string, allow: boolean, line: number, frontEnd: boolean) => void,
  onProblem: (p: ListProblem) => void,
): void {
  const line = raw.trim();
  if (line === '' || line[0] === '#' || line[0] === '!' || (line[0] === '[' && line.endsWith(']'))) return;
  const fail = (reason: string) => onProblem({ file, line: lineNo, text: raw.replace(/\r$/, ''), reason });

  if (line.startsWith('||') || line.startsWith('@@||')) {
    const allow = line.startsWith('@@');
    const m = /^(?:@@)?\|\|([^\^$|/]+)\^(?:\$(.*))?$/.exec(line);
    if (!m) return fail('adblock rule must look like ||example.com^ or @@||example.com^');
    if (m[2] !== undefined && m[2] !== 'important') return fail(`adblock modifier "$${m[2]}" is not supported by a DNS filter`);
    return addDomain(m[1], allow, false);
  }

  const frontEnd = line.includes('#') && FRONT_END.test(line);
  const tokens = line.replace(/\s+#.*$/, '').split(/\s+/);
  if (HOSTS_IP.test(tokens[0]) && tokens.length >= 2) {
    for (const name of tokens.slice(1)) {
      if (!HOSTS_SELF.has(name.toLowerCase())) addDomain(name, false, frontEnd);
    }
    return;
  }
  if (tokens.length !== 1) return fail('expected one domain per line (or a hosts-file line "0.0.0.0 domain")');
  addDomain(tokens[0].startsWith('*.') ? tokens[0].slice(2) : tokens[0], false, frontEnd);

  function addDomain(name: string, allow: boolean, frontEnd: boolean): void {
    const domain = normaliseDomain(name);
    if (typeof domain === 'string') onEntry(domain, allow, lineNo, frontEnd);
    else fail(domain.error);
  }
}
