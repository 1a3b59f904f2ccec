import { parseIp } from '../net/ip.js';

/** A socket address from config: an IP literal (no hostnames: DNS must not depend on DNS) and a port. */
export interface HostPort {
  host: string;
  port: number;
  family: 4 | 6;
}

/**
 * Parses "1.2.3.4:53", "[2001:db8::1]:53", or, when `defaultPort` is given, a bare address.
 * Throws an Error naming what is wrong.
 */
export function parseHostPort(text: string, defaultPort: number | null): HostPort {
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1];
    portText = bracket[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(':');
  } else {
    host = text;
  }
  const ip = parseIp(host);
  if (!ip) throw new Error(`"${text}" is not an address: expected an IP literal with a port, e.g. 10.0.0.1:53 or [fd00::1]:53`);
  if (portText === undefined) {
    if (defaultPort === null) throw new Error(`"${text}" has no port (e.g. ${ip.family === 6 ? `[${host}]` : host}:53)`);
    return { host, port: defaultPort, family: host.includes(':') ? 6 : 4 };
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new Error(`"${text}" has an invalid port (0-65535)`);
  return { host, port, family: host.includes(':') ? 6 : 4 };
}

/** Formats a socket address as it is written in config and logs. */
export function formatHostPort(h: { host: string; port: number }): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}
