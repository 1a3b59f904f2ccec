import { CommandError } from './errors.js';
import { stdinLine } from './secret-line.js';

/**
 * The new password: line `line` of stdin with --password-stdin (for scripts; the second when the
 * first is --account's password), else asked twice
 * on the terminal without echo.
 */
export async function readPassword(fromStdin: boolean, line = 0): Promise<string> {
  if (fromStdin) return stdinLine(line);
  if (!process.stdin.isTTY) throw new CommandError('no terminal to ask for the password: give --password-stdin and pipe it in');
  const first = await ask('New password: ');
  const second = await ask('Again: ');
  if (first !== second) throw new CommandError('the two passwords differ; nothing was changed');
  return first;
}

/** Reads a line from the terminal without echoing it. */
function ask(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
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
