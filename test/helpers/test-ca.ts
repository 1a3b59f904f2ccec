/**
 * A throw-away certificate authority made with the real `openssl` (Debian package openssl), and
 * server certificates it signs, for tests of HTTPS list servers and DNS over TLS/HTTPS upstreams.
 * EC P-256 keys (fast to make); certificates valid for one day.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { needTool } from './tools.js';

export interface TestCa {
  dir: string;
  /** Path of the CA certificate (PEM): what a client is told to trust. */
  certFile: string;
  certPem: string;
  /** Issues a server certificate for these names (DNS names and/or IP addresses in subjectAltName). */
  issue(name: string, opts?: { dns?: string[]; ip?: string[] }): { certFile: string; keyFile: string; cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync(needTool('openssl'), args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export function makeTestCa(label = 'webfilter test CA'): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-ca-'));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      `/CN=${label}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  let serial = 1;
  return {
    dir,
    certFile: path.join(dir, 'ca.pem'),
    certPem: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    issue(name, opts = {}) {
      const base = `server-${serial++}`;
      const san = [...(opts.dns ?? [name]).map((d) => `DNS:${d}`), ...(opts.ip ?? []).map((ip) => `IP:${ip}`)].join(',');
      writeFileSync(
        path.join(dir, `${base}.ext`),
        `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
      );
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${base}.key`], dir);
      openssl(['req', '-new', '-key', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${base}.pem`,
          '-days',
          '1',
          '-extfile',
          `${base}.ext`,
        ],
        dir,
      );
      const certFile = path.join(dir, `${base}.pem`);
      const keyFile = path.join(dir, `${base}.key`);
      return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
