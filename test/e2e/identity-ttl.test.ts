/**
 * End-to-end with an injected clock: the daemon runs in this process (startDaemon with `now`), so
 * the test can move time past a mapping's TTL. radclient and DNS clients are real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { startDaemon } from '../../src/daemon/start.js';
import { RCODE } from '../../src/dns/constants.js';
import { tempDir } from '../helpers/daemon-process.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { udpQuery } from '../helpers/dns-client.js';
import { radclientAcct } from '../helpers/radclient.js';
import { until } from '../helpers/wait.js';
import { header, query, reply, rr } from '../helpers/wire-builder.js';

const SECRET = 'ttl-test-secret';
const HOUR = 3_600_000;

/** A UDP port free now (bound and released). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('Interim-Update refreshes the TTL; without one the user group lapses after identity.default_ttl', async () => {
  const up = await startFakeUpstream((q) => reply(q, { answers: [rr.a('x', '192.0.2.1', 60)] }));
  const radius = await freePort();
  const dir = tempDir({
    'fb.txt': 'facebook.com\n',
    secret: `${SECRET}\n`,
    'c.yaml': `
server: { listen: ["127.0.0.1:0"], allowed_clients: [127.0.0.0/8] }
upstream: { servers: ["127.0.0.1:${up.port}"], timeout_ms: 500 }
categories: { facebook: [fb.txt] }
groups:
  staff: { block: [] }
  default: { block: [facebook] }
database: { path: w.db }
metrics: { enabled: false }
log: { level: error }
identity:
  radius_accounting: { listen: ["127.0.0.1:${radius}"], clients: [{ address: 127.0.0.1, secret_file: secret }] }
  default_ttl: 12h
`,
  });
  chmodSync(path.join(dir, 'secret'), 0o600);
  let now = Date.parse('2026-11-30T08:00:00Z');
  const d = await startDaemon({ configFile: path.join(dir, 'c.yaml'), log: pino({ level: 'error' }), now: () => now });
  const port = Number(d.addresses[0].split(':').pop());
  const rcode = async () => header((await udpQuery(port, query('facebook.com'), { localAddress: '127.0.0.41' }))!).rcode;
  const acct = (status: string) =>
    radclientAcct(
      radius,
      SECRET,
      `Acct-Status-Type = ${status}, User-Name = "j.smith", Framed-IP-Address = 127.0.0.41, Filter-Id = "staff", Acct-Session-Id = "t1"`,
    );
  try {
    assert.is(await rcode(), RCODE.NXDOMAIN);
    assert.ok((await acct('Start')).answered);
    await until(async () => (await rcode()) === RCODE.NOERROR, 'staff policy');
    const start = now;
    now += 11 * HOUR;
    assert.ok((await acct('Interim-Update')).answered);
    await until(() => d.identities.list()[0]?.expires === start + 23 * HOUR, 'the Interim-Update applied');
    now += 11 * HOUR; // 22 h after Start, 11 h after the Interim-Update
    assert.is(await rcode(), RCODE.NOERROR, 'still staff: the Interim-Update refreshed the TTL');
    now += HOUR + 1;
    assert.is(await rcode(), RCODE.NXDOMAIN, 'lapsed: back to the address group');
  } finally {
    await d.stop();
    await up.close();
  }
});

test.run();
