/**
 * dig (BIND) and kdig (Knot) as independent DNS clients for end-to-end tests, run asynchronously
 * (a fake upstream in the test process must keep answering while they wait), with small readers
 * for what they print.
 */
import { execFile } from 'node:child_process';
import { needTool } from './tools.js';

/** Runs `tool @127.0.0.1 -p PORT ...args` and resolves with what it printed (also when it exits non-zero). */
export function runDig(tool: 'dig' | 'kdig', port: number, args: string[], timeoutMs = 10_000): Promise<string> {
  const cmd = needTool(tool);
  return new Promise((resolve) => {
    execFile(cmd, ['@127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: timeoutMs }, (_err, stdout, stderr) =>
      resolve(stdout + stderr),
    );
  });
}

export const dig = (port: number, ...args: string[]) => runDig('dig', port, args);
export const kdig = (port: number, ...args: string[]) => runDig('kdig', port, args);

/** What a dig or kdig printout says about the reply. */
export interface Printed {
  /** NOERROR, NXDOMAIN, BADVERS, … (null when there was no reply). */
  status: string | null;
  /** Header flags, e.g. ["qr", "rd", "ra", "ad"]. */
  flags: string[];
  /** Section counts as printed. */
  counts: { query: number; answer: number; authority: number; additional: number };
  /** Answer-section lines as [owner, ttl, type, data]. */
  answers: [string, number, string, string][];
  /** EDNS option lines present: "NSID", "COOKIE", "EDE", "PADDING", "CLIENT-SUBNET" / "SUBNET", … */
  ednsLines: string[];
  /** The whole EDNS pseudosection's first line (dig: "; EDNS: version: 0, flags: do; udp: 1232"), or null. */
  edns: string | null;
  /** Bytes received, as printed ("MSG SIZE rcvd" / "Received N B"). */
  size: number | null;
  text: string;
}

export function readPrinted(text: string): Printed {
  const status = /status: (\w+)/.exec(text)?.[1] ?? null;
  const flagLine = /;; [Ff]lags: ([a-z ]*);/.exec(text)?.[1] ?? '';
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(text)?.[1] ?? NaN);
  const answers: [string, number, string, string][] = [];
  let inAnswer = false;
  for (const line of text.split('\n')) {
    if (/^;; ANSWER SECTION/.test(line)) {
      inAnswer = true;
      continue;
    }
    if (inAnswer && (line.trim() === '' || line.startsWith(';;'))) inAnswer = false;
    if (inAnswer) {
      const [owner, ttl, , type, ...data] = line.trim().split(/\s+/);
      answers.push([owner, Number(ttl), type, data.join(' ')]);
    }
  }
  const ednsLines = text
    .split('\n')
    .map((l) => /^;{1,2} (NSID|COOKIE|EDE|PADDING|CLIENT-SUBNET|SUBNET|KEEPALIVE|TCP-KEEPALIVE)\b/i.exec(l)?.[1]?.toUpperCase())
    .filter((x): x is string => !!x);
  const edns = /^;{1,2} (EDNS: .*|Version: .*)$/m.exec(text)?.[1] ?? null;
  const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(text)?.[1] ?? /Received (\d+) B/.exec(text)?.[1] ?? NaN);
  return {
    status,
    flags: flagLine.trim().split(/\s+/).filter(Boolean),
    counts: { query: count('QUERY'), answer: count('ANSWER'), authority: count('AUTHORITY'), additional: count('ADDITIONAL') },
    answers,
    ednsLines,
    edns,
    size: Number.isNaN(size) ? null : size,
    text,
  };
}
