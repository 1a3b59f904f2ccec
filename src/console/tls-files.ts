import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.js';

/**
 * The console's certificate and key. Under the systemd unit the daemon never runs as root, so a
 * key readable by root only reaches it as a credential: `LoadCredential=console.key:/etc/webfilter/console.key`
 * (and `console.crt`) makes systemd hand over a copy in $CREDENTIALS_DIRECTORY, which is read in
 * preference to the configured file. Started as root elsewhere, the files are read before root is
 * given up.
 */
export const TLS_CREDENTIALS = { cert: 'console.crt', key: 'console.key' } as const;

export type TlsPart = keyof typeof TLS_CREDENTIALS;

/** Where a part of `console.tls` is read from: the systemd credential when there is one, else the configured path. */
export function tlsSource(loaded: LoadedConfig, part: TlsPart, env = process.env): string | null {
  const tls = loaded.config.console.tls;
  if (!tls) return null;
  const dir = env.CREDENTIALS_DIRECTORY;
  if (dir) {
    const credential = path.join(dir, TLS_CREDENTIALS[part]);
    if (existsSync(credential)) return credential;
  }
  return path.resolve(path.dirname(loaded.file), tls[part]);
}

/** Reads the certificate and key (null without `console.tls`). Throws naming the config key and the file. */
export function readTls(loaded: LoadedConfig): { cert: Buffer; key: Buffer } | null {
  if (!loaded.config.console.tls) return null;
  const read = (part: TlsPart) => {
    const file = tlsSource(loaded, part)!;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`console.tls.${part}: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  return { cert: read('cert'), key: read('key') };
}
