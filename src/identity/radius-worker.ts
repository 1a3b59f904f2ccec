/**
 * The RADIUS accounting listener, in its own thread: a flood of RADIUS packets (forged, garbage or
 * real) costs this thread's CPU, never the DNS thread's. Per packet: is the source a configured NAS,
 * does the packet parse, does its authenticator verify with that NAS's secret; only then is it
 * answered (Accounting-Response) and its facts sent to the DNS thread, in batches. Anything else is
 * dropped without a reply and counted.
 */
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { formatHostPort, type HostPort } from '../config/host-port.js';
import { parseCidr } from '../net/cidr.js';
import { canonicalAddress } from '../net/ip.js';
import { PrefixIndex } from '../net/prefix-index.js';
import { readAccounting, type AccountingRecord } from './accounting.js';
import { accountingResponse, CODE, parsePacket, RadiusFormatError, verifyAccountingRequest } from './radius-codec.js';
import {
  RADIUS_OUTCOMES,
  type FromRadius,
  type NasClient,
  type RadiusCounts,
  type RadiusInit,
  type RadiusOutcome,
  type ToRadius,
} from './radius-protocol.js';

/** Records waiting to go to the DNS thread; beyond this packets are dropped unanswered (the NAS retries). */
const MAX_PENDING = 10_000;
const COUNTS_EVERY_MS = 250;
const RECV_BUFFER = 4 * 1024 * 1024;

const init = workerData as RadiusInit;
const port = parentPort!;
const send = (m: FromRadius) => port.postMessage(m);
const counts = Object.fromEntries(RADIUS_OUTCOMES.map((o) => [o, 0])) as RadiusCounts;
let countsSent = '';
let nas = compileClients(init.clients);
let groupAttribute = init.groupAttribute;
let pending: AccountingRecord[] = [];
let flushQueued = false;
const sockets: dgram.Socket[] = [];

function compileClients(clients: NasClient[]): PrefixIndex<Buffer> {
  const index = new PrefixIndex<Buffer>();
  for (const c of clients) index.add(parseCidr(c.cidr), Buffer.from(c.secret));
  return index;
}

function flush(): void {
  flushQueued = false;
  if (pending.length === 0) return;
  send({ type: 'records', records: pending, counts: { ...counts } });
  countsSent = JSON.stringify(counts);
  pending = [];
}

function onPacket(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
  const from = canonicalAddress(rinfo.address);
  const secret = nas.lookup(from);
  if (secret === undefined) return void counts.unknown_client++;
  let outcome: RadiusOutcome = 'accepted';
  try {
    const p = parsePacket(msg);
    if (p.code !== CODE.ACCOUNTING_REQUEST) outcome = 'not_accounting';
    else if (!verifyAccountingRequest(p, secret)) outcome = 'bad_authenticator';
    else if (pending.length >= MAX_PENDING) outcome = 'queue_full';
    else {
      pending.push(readAccounting(p, from, groupAttribute));
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
      socket.send(accountingResponse(p, secret), rinfo.port, rinfo.address);
    }
  } catch (e) {
    // Never die on a packet: an error other than RadiusFormatError would be a codec bug (the fuzz tests look for them).
    outcome = 'malformed';
    if (!(e instanceof RadiusFormatError)) send({ type: 'error', error: (e as Error).stack ?? String(e) });
  }
  counts[outcome]++;
}

async function bind(addr: HostPort): Promise<dgram.Socket> {
  // [::] takes IPv4 too unless 0.0.0.0 is listened on the same port.
  const ipv6Only = addr.family === 6 && init.listen.some((a) => a.family === 4 && a.port === addr.port);
  // A large receive buffer absorbs bursts (every NAS sending Accounting-Start after a power cut);
  // the kernel caps it at net.core.rmem_max.
  const socket = dgram.createSocket({ type: addr.family === 6 ? 'udp6' : 'udp4', ipv6Only, recvBufferSize: RECV_BUFFER });
  socket.on('message', (m, r) => onPacket(socket, m, r));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: addr.host, port: addr.port }, () => {
      socket.off('error', reject);
      socket.on('error', () => {}); // ICMP errors on send: nothing to do
      resolve();
    });
  });
  return socket;
}

port.on('message', (m: ToRadius) => {
  if (m.type === 'configure') {
    nas = compileClients(m.clients);
    groupAttribute = m.groupAttribute;
  } else if (m.type === 'close') {
    for (const s of sockets) s.close();
    flush();
    send({ type: 'closed' });
  }
});

const timer = setInterval(() => {
  const now = JSON.stringify(counts);
  if (now !== countsSent) {
    countsSent = now;
    send({ type: 'counts', counts: { ...counts } });
  }
}, COUNTS_EVERY_MS);
timer.unref();

try {
  for (const addr of init.listen) sockets.push(await bind(addr));
  send({
    type: 'listening',
    addresses: sockets.map((s, i) => formatHostPort({ host: init.listen[i].host, port: s.address().port })),
  });
} catch (e) {
  for (const s of sockets) s.close();
  send({ type: 'failed', error: (e as Error).message });
}
