/**
 * FreeRADIUS's `radclient` (Debian freeradius-utils): a real, independently written RADIUS client.
 * It checks the Response Authenticator of what it receives, so "answered" means a reply that a real
 * NAS would accept.
 */
import { spawn } from 'node:child_process';
import { needTool } from './tools.js';

export interface RadclientResult {
  code: number | null;
  /** A valid Accounting-Response arrived. */
  answered: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Sends one Accounting-Request, e.g. `Acct-Status-Type = Start, User-Name = "j.smith"`. When no answer is
 * expected, `retries: 0` and a short `timeout` keep it quick.
 */
export function radclientAcct(
  port: number,
  secret: string,
  attributes: string,
  opts: { host?: string; retries?: number; timeout?: number } = {},
): Promise<RadclientResult> {
  const bin = needTool('radclient');
  const host = opts.host ?? '127.0.0.1';
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const args = ['-x', '-r', String((opts.retries ?? 2) + 1), '-t', String(opts.timeout ?? 1), target, 'acct', secret];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      resolve({ code, answered: code === 0 && /Received Accounting-Response/.test(stdout), stdout, stderr }),
    );
    child.stdin.end(`${attributes}\n`);
  });
}
