import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { NasClient } from './radius-protocol.js';

/** Shortest feed token accepted: a guessable token would let anyone name anyone. */
export const MIN_TOKEN_LENGTH = 16;

/** A secret file's content without its final line break; throws naming the key when unreadable or empty. */
async function readSecret(configFile: string, yamlPath: string, file: string, warn: (msg: string) => void): Promise<Buffer> {
  const abs = path.resolve(path.dirname(configFile), file);
  let text: Buffer;
  try {
    text = await readFile(abs);
    if (((await stat(abs)).mode & 0o007) !== 0)
      warn(`${yamlPath}: ${abs} is readable by every user on this machine (chmod 600 or 640)`);
  } catch (e) {
    throw new Error(`${yamlPath}: cannot read "${abs}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let end = text.length;
  while (end > 0 && (text[end - 1] === 0x0a || text[end - 1] === 0x0d)) end--;
  if (end === 0) throw new Error(`${yamlPath}: "${abs}" is empty`);
  return text.subarray(0, end);
}

/** The NAS networks with their shared secrets. */
export async function readNasClients(config: Config, configFile: string, warn: (msg: string) => void): Promise<NasClient[]> {
  const clients = config.identity.radius_accounting?.clients ?? [];
  return Promise.all(
    clients.map(async (c, i) => ({
      cidr: c.address,
      secret: await readSecret(configFile, `identity.radius_accounting.clients[${i}].secret_file`, c.secret_file, warn),
    })),
  );
}

/** The feed's bearer token, or null when the feed is off. */
export async function readFeedToken(config: Config, configFile: string, warn: (msg: string) => void): Promise<Buffer | null> {
  const feed = config.identity.feed;
  if (!feed.enabled || !feed.token_file) return null;
  const token = await readSecret(configFile, 'identity.feed.token_file', feed.token_file, warn);
  if (token.length < MIN_TOKEN_LENGTH)
    throw new Error(
      `identity.feed.token_file: the token is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 24)`,
    );
  return token;
}
