/**
 * A real SMTP server for tests: Debian's python3-aiosmtpd (run with /usr/bin/python3, whose
 * packages Debian installs it for), started on a loopback port, saving each message it accepts —
 * envelope, headers and the decoded text and HTML parts, parsed by Python's own `email` package —
 * as one JSON file. Optionally requires AUTH with a user and password.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnServer, type ChildServer } from './child-server.js';
import { freePort } from './free-port.js';
import { needTool } from './tools.js';
import { until } from './wait.js';

export interface SmtpMessage {
  from: string;
  to: string[];
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/html part, decoded ("" when none). */
  html: string;
  /** The whole message as received. */
  raw: string;
  /** The AUTH login used, or null. */
  login: string | null;
  /** When the server accepted it (ms since the epoch). */
  receivedAt: number;
}

export interface SmtpServer {
  port: number;
  /** Messages accepted so far, in order. */
  messages(): SmtpMessage[];
  /** Waits until at least `n` messages have arrived; returns them all. */
  waitForMessages(n: number, ms?: number): Promise<SmtpMessage[]>;
  stop(): Promise<void>;
}

const SCRIPT = String.raw`
import json, os, signal, sys, time, email, email.policy
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
count = 0

class Saver:
    async def handle_DATA(self, server, session, envelope):
        global count
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(('plain',))
        html = msg.get_body(('html',))
        login = session.auth_data if isinstance(session.auth_data, str) else None
        rec = {
            'from': envelope.mail_from, 'to': envelope.rcpt_tos, 'subject': str(msg['subject'] or ''),
            'text': text.get_content() if text else '', 'html': html.get_content() if html else '',
            'raw': envelope.content.decode('utf8', 'replace'), 'login': login, 'receivedAt': int(time.time() * 1000),
        }
        count += 1
        tmp = os.path.join(out, '%06d.tmp' % count)
        with open(tmp, 'w') as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(out, '%06d.json' % count))
        return '250 Message accepted'

def check(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
        return AuthResult(success=True, auth_data=auth_data.login.decode())
    return AuthResult(success=False, handled=False)

kw = {}
if user:
    kw = dict(authenticator=check, auth_required=True, auth_require_tls=False)
c = Controller(Saver(), hostname='127.0.0.1', port=port, **kw)
c.start()
print('ready', flush=True)
signal.pause()
`;

/**
 * Starts the server on `port` (a free loopback port when not given: a test that stops and restarts
 * the server passes the same port again). With `auth`, only that user and password may send.
 */
export async function startSmtpServer(opts: { port?: number; auth?: { user: string; pass: string } } = {}): Promise<SmtpServer> {
  const python = needTool('/usr/bin/python3');
  if (spawnSync(python, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status !== 0)
    throw new Error('python3-aiosmtpd is not installed (Debian package python3-aiosmtpd): run scripts/test-tools.sh');
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-smtp-'));
  writeFileSync(path.join(dir, 'server.py'), SCRIPT);
  const port = opts.port ?? (await freePort());
  const args = [path.join(dir, 'server.py'), dir, String(port), opts.auth?.user ?? '', opts.auth?.pass ?? ''];
  const server: ChildServer = spawnServer(python, args, dir);
  try {
    await until(() => server.output().includes('ready') || server.child.exitCode !== null, 'aiosmtpd to start', 10_000);
  } catch (e) {
    await server.stop();
    throw e;
  }
  if (!server.output().includes('ready')) {
    throw new Error(`aiosmtpd did not start (is python3-aiosmtpd installed? scripts/test-tools.sh): ${server.output()}`);
  }
  const messages = () =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as SmtpMessage);
  return {
    port,
    messages,
    waitForMessages: (n, ms = 10_000) =>
      until(
        () => {
          const m = messages();
          return m.length >= n ? m : null;
        },
        `${n} e-mail message(s) at the test SMTP server`,
        ms,
      ),
    stop: () => server.stop(),
  };
}
