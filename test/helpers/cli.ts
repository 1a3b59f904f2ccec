/** Runs the real `webfilter` CLI (dist/cli.js) and captures its output. */
import { spawn } from 'node:child_process';
import { CLI } from './daemon-process.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `input` is written to its stdin (e.g. a password with --password-stdin). */
export function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    child.stdin.end(input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // 'close', not 'exit': the output pipes may still hold data when the process has exited.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
