import { CommandError } from './errors.js';

let stdinText: Promise<string> | null = null;

/**
 * Line `n` (from 0) of stdin, read once for the whole command: with `--account` and
 * `--password-stdin`, the first line is the account's password and the second the new password
 * (`user add`, `user passwd`).
 */
export async function stdinLine(n: number): Promise<string> {
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  })();
  const line = (await stdinText).split(/\r?\n/)[n];
  if (line === undefined) throw new CommandError(`--password-stdin: stdin has no line ${n + 1} (one password a line)`);
  return line;
}

/**
 * One secret line: line `line` of stdin (`fromStdin`, for scripts), else typed on the terminal
 * without echo after `prompt` (on stderr, so stdout stays the command's output).
 */
export async function readLine(prompt: string, fromStdin: boolean, line = 0): Promise<string> {
  const stdin = process.stdin;
  if (fromStdin) return stdinLine(line);
  if (!stdin.isTTY) throw new CommandError('no terminal to ask for the password: give --password-stdin and pipe it in');
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let text = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(text);
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
