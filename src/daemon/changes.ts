import { isDeepStrictEqual } from 'node:util';
import { formatHostPort } from '../config/host-port.js';
import type { LoadedConfig } from '../config/load.js';

/** What a reload changes that the daemon must act on (or tell about), compared field by field. */

const addresses = (l: LoadedConfig) => l.listen.map(formatHostPort);

/** Where every name is forwarded: the main upstreams and each zone's servers. */
const upstreamSets = (l: LoadedConfig) => [
  // The name carries the transport (tls://, https://); the certificate name matters too.
  l.upstreams.map((u) => ('tlsName' in u ? `${u.name}#${u.tlsName}` : u.name)),
  l.zones.map((z) => [z.zone, z.servers.map(formatHostPort)]),
];

/** `server.listen` changed: only a restart applies it. */
export function listenChanged(old: LoadedConfig, next: LoadedConfig): boolean {
  return !isDeepStrictEqual(addresses(old), addresses(next));
}

/** The upstream sets changed: cached answers came from the old ones and must go. */
export function upstreamsChanged(old: LoadedConfig, next: LoadedConfig): boolean {
  return !isDeepStrictEqual(upstreamSets(old), upstreamSets(next));
}

/** Any `console:` setting changed (some apply at once, some need a restart). */
export function consoleChanged(old: LoadedConfig, next: LoadedConfig): boolean {
  return !isDeepStrictEqual(old.config.console, next.config.console);
}
