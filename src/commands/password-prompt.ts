import { CommandError } from './errors.js';
import { readLine } from './secret-line.js';

/**
 * The new password: line `line` of stdin with --password-stdin (for scripts; the second when the
 * first is --account's password), else asked twice on the terminal without echo.
 */
export async function readPassword(fromStdin: boolean, line = 0): Promise<string> {
  if (fromStdin) return readLine('', true, line);
  const first = await readLine('New password: ', false);
  const second = await readLine('Again: ', false);
  if (first !== second) throw new CommandError('the two passwords differ; nothing was changed');
  return first;
}
