/**
 * unbound (Debian package unbound) as a recursive resolver on loopback — webfilter's upstream in
 * end-to-end tests. Test zones are reached through stub zones pointing at a local authoritative
 * server (see knot.ts); every other name is REFUSED at once (no root servers are asked, so a test
 * never depends on the internet). Ready when it answers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer, waitForDns, type ChildServer } from './child-server.js';
import { freePort } from './free-port.js';
import { needTool } from './tools.js';

export interface UnboundOptions {
  /** Zones resolved by asking an authoritative server: zone → "127.0.0.1@PORT". */
  stubs?: Record<string, string>;
  /** NSID answered to queries that ask for it (RFC 5001), e.g. "ascii_upstream-1". */
  nsid?: string;
  /** Validate with these trust anchors ("example. DNSKEY 257 3 13 …", see knot.ts trustAnchors): AD=1 on secure answers. */
  trustAnchors?: string[];
  /** Extra lines for the `server:` clause, e.g. "ede: yes". */
  extra?: string[];
  /**
   * Serve DNS over TLS (RFC 7858) and/or DNS over HTTPS (RFC 8484, unbound's `https-port`, built with
   * libnghttp2 in Debian) with this certificate, each on its own port that speaks nothing else.
   */
  tls?: { certFile: string; keyFile: string; dot?: boolean; doh?: boolean };
  /** Reuse these ports (a restart of the same server). */
  ports?: { port: number; tlsPort?: number; httpsPort?: number };
}

export interface Unbound {
  port: number;
  /** The DoT port (TLS only), when `tls.dot`. */
  tlsPort?: number;
  /** The DoH port (HTTPS only, path /dns-query), when `tls.doh`. */
  httpsPort?: number;
  dir: string;
  server: ChildServer;
  stop(): Promise<void>;
}

export async function startUnbound(opts: UnboundOptions = {}): Promise<Unbound> {
  const unbound = needTool('unbound');
  const stubs = Object.entries(opts.stubs ?? {}).map(([zone, at]) => ({ zone: zone.endsWith('.') ? zone : `${zone}.`, at }));
  for (let attempt = 0; ; attempt++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-unbound-'));
    const port = opts.ports?.port ?? (await freePort());
    const tlsPort = opts.tls?.dot ? (opts.ports?.tlsPort ?? (await freePort())) : undefined;
    const httpsPort = opts.tls?.doh ? (opts.ports?.httpsPort ?? (await freePort())) : undefined;
    const conf = [
      'server:',
      `  interface: 127.0.0.1@${port}`,
      `  port: ${port}`,
      ...(opts.tls
        ? [`  tls-service-key: "${opts.tls.keyFile}"`, `  tls-service-pem: "${opts.tls.certFile}"`, '  incoming-num-tcp: 100']
        : []),
      ...(tlsPort ? [`  interface: 127.0.0.1@${tlsPort}`, `  tls-port: ${tlsPort}`] : []),
      ...(httpsPort
        ? [`  interface: 127.0.0.1@${httpsPort}`, `  https-port: ${httpsPort}`, '  http-endpoint: "/dns-query"']
        : []),
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  use-syslog: no',
      '  logfile: ""',
      '  verbosity: 1',
      '  num-threads: 1',
      '  so-reuseport: no',
      '  access-control: 127.0.0.0/8 allow',
      // A stub server on 127.x is "localhost" to unbound, which by default never asks it.
      '  do-not-query-localhost: no',
      opts.trustAnchors?.length ? '  module-config: "validator iterator"' : '  module-config: "iterator"',
      ...(opts.trustAnchors ?? []).map((a) => `  trust-anchor: ${a}`),
      '  qname-minimisation: no',
      // No root servers: only the stub zones resolve; everything else is REFUSED straight away.
      '  local-zone: "." refuse',
      ...stubs.map((s) => `  local-zone: "${s.zone}" transparent`),
      opts.nsid ? `  nsid: "${opts.nsid}"` : '',
      ...(opts.extra ?? []).map((l) => `  ${l}`),
      ...stubs.map((s) => `stub-zone:\n  name: "${s.zone}"\n  stub-addr: ${s.at}`),
    ]
      .filter((l) => l !== '')
      .join('\n');
    writeFileSync(path.join(dir, 'unbound.conf'), conf + '\n');
    const server = spawnServer(unbound, ['-d', '-c', path.join(dir, 'unbound.conf')], dir);
    try {
      // unbound answers localhost. itself (a default local zone), without asking anyone.
      await waitForDns(server, port, 'localhost', 1);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt < 2 && !opts.ports && /bind|address already in use/i.test(server.output())) continue;
      throw e;
    }
    return {
      port,
      tlsPort,
      httpsPort,
      dir,
      server,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
