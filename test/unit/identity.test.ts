/**
 * The identity index and service (fake clock, no sockets): what Start, Interim-Update, Stop and
 * Accounting-On/Off do to the mappings, TTLs, IPv6 prefixes, the feed, and the client stage's
 * choice of group through compose().
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { configSchema } from '../../src/config/schema.js';
import type { AccountingRecord } from '../../src/identity/accounting.js';
import { formatIPv6, parseAddressKey } from '../../src/identity/address-key.js';
import { IdentityService, type FeedItem } from '../../src/identity/identity-service.js';
import { STATUS } from '../../src/identity/radius-codec.js';
import { clientStage } from '../../src/pipeline/client-stage.js';
import { parseQuery } from '../../src/dns/query.js';
import { compose, type QueryContext } from '../../src/pipeline/types.js';
import { ClientDirectory, type ClientInfo } from '../../src/policy/clients.js';
import type { CompiledGroup } from '../../src/policy/policy.js';
import { query } from '../helpers/wire-builder.js';

const HOUR = 3_600_000;
const log = pino({ level: 'silent' });

function setup() {
  const clock = { t: Date.parse('2026-11-30T09:00:00Z') };
  const svc = new IdentityService(
    { defaultTtlMs: 12 * HOUR, groups: new Set(['staff', 'students', 'default']) },
    () => clock.t,
    log,
  );
  return { clock, svc, at: (a: string) => svc.index.lookup(a, clock.t) };
}

const rec = (r: Partial<AccountingRecord> & { status: number }): AccountingRecord => ({
  nas: '10.0.0.2',
  user: 'j.smith',
  session: 's1',
  mac: null,
  addresses: ['10.20.3.4'],
  groups: ['staff'],
  ...r,
});

const feed = (address: string, user: string, more: Partial<FeedItem> = {}): FeedItem => ({
  key: parseAddressKey(address),
  user,
  group: null,
  ttlMs: null,
  logoff: false,
  ...more,
});

test('Start maps the address; Stop for the same session removes it', () => {
  const { svc, at } = setup();
  svc.applyAccounting([rec({ status: STATUS.START })]);
  assert.equal(
    { user: at('10.20.3.4')?.user, group: at('10.20.3.4')?.group, source: at('10.20.3.4')?.source },
    { user: 'j.smith', group: 'staff', source: 'radius' },
  );
  assert.is(at('10.20.3.5'), undefined);
  svc.applyAccounting([rec({ status: STATUS.STOP })]);
  assert.is(at('10.20.3.4'), undefined);
  assert.equal(svc.counts, { radius: 0, feed: 0 });
});

test('a late Stop of an old session does not end the newer session at a reused address', () => {
  const { svc, at } = setup();
  svc.applyAccounting([rec({ status: STATUS.START, session: 'old', user: 'a.pupil' })]);
  svc.applyAccounting([rec({ status: STATUS.START, session: 'new', user: 'b.pupil' })]);
  svc.applyAccounting([rec({ status: STATUS.STOP, session: 'old', user: 'a.pupil' })]);
  assert.is(at('10.20.3.4')?.user, 'b.pupil');
});

test('a Stop without an address finds its mappings by session', () => {
  const { svc, at } = setup();
  svc.applyAccounting([rec({ status: STATUS.START, addresses: ['10.20.3.4', '2001:db8::5'] })]);
  svc.applyAccounting([rec({ status: STATUS.STOP, addresses: [] })]);
  assert.is(at('10.20.3.4'), undefined);
  assert.is(at('2001:db8::5'), undefined);
  assert.is(svc.index.size, 0);
});

test('Interim-Update refreshes the TTL; without one the mapping lapses', () => {
  const { clock, svc, at } = setup();
  svc.applyAccounting([rec({ status: STATUS.START })]);
  const since = at('10.20.3.4')!.since;
  clock.t += 11 * HOUR;
  svc.applyAccounting([rec({ status: STATUS.INTERIM_UPDATE })]);
  clock.t += 11 * HOUR; // 22 h after Start, 11 h after the Interim-Update
  assert.is(at('10.20.3.4')?.user, 'j.smith');
  assert.is(at('10.20.3.4')?.since, since, 'the same session keeps its start');
  clock.t += HOUR + 1;
  assert.is(at('10.20.3.4'), undefined, 'expired: invisible at once');
  assert.is(svc.index.size, 1, '...and kept until swept');
  assert.is(svc.sweep(), 1);
  assert.is(svc.index.size, 0);
});

test("Accounting-On/Off clears that NAS's sessions only", () => {
  const { svc, at } = setup();
  svc.applyAccounting([
    rec({ status: STATUS.START, addresses: ['10.20.3.4'] }),
    rec({ status: STATUS.START, addresses: ['10.20.3.5'], nas: '10.0.0.3', session: 's2' }),
  ]);
  svc.applyFeed([feed('10.20.3.6', 'c.teacher')], '10.0.0.9');
  svc.applyAccounting([rec({ status: STATUS.ACCOUNTING_ON, user: null, session: null, addresses: [] })]);
  assert.equal([at('10.20.3.4')?.user, at('10.20.3.5')?.user, at('10.20.3.6')?.user], [undefined, 'j.smith', 'c.teacher']);
  svc.applyAccounting([rec({ status: STATUS.ACCOUNTING_OFF, nas: '10.0.0.3', user: null, session: null, addresses: [] })]);
  assert.is(at('10.20.3.5'), undefined);
  assert.equal(svc.counts, { radius: 0, feed: 1 });
});

test('the group is the first reported value that is a configured group', () => {
  const { svc, at } = setup();
  svc.applyAccounting([rec({ status: STATUS.START, groups: ['wifi-users', 'students', 'staff'] })]);
  assert.is(at('10.20.3.4')?.group, 'students');
  svc.applyAccounting([rec({ status: STATUS.START, groups: ['wifi-users'] })]);
  assert.is(at('10.20.3.4')?.group, 'wifi-users', 'kept, though it applies no policy');
  svc.applyAccounting([rec({ status: STATUS.START, user: null })]);
  assert.is(at('10.20.3.4')?.user, 'j.smith', 'a Start naming nobody changes nothing');
});

test('IPv6: an exact address beats a prefix; a prefix covers its addresses only', () => {
  const { svc, at } = setup();
  svc.applyFeed([feed('2001:db8:1:2::/64', 'pupil'), feed('2001:DB8:1:2::7', 'teacher')], '10.0.0.9');
  assert.is(at('2001:db8:1:2:aaaa::1')?.user, 'pupil');
  assert.is(at('2001:db8:1:2::7')?.user, 'teacher');
  assert.is(at('2001:db8:1:3::1'), undefined);
  assert.is(at('10.20.3.4'), undefined);
  svc.applyFeed([feed('2001:db8:1:2::/64', 'pupil', { logoff: true })], '10.0.0.9');
  assert.is(at('2001:db8:1:2:aaaa::1'), undefined);
  assert.is(at('2001:db8:1:2::7')?.user, 'teacher');
});

test('feed: logoff removes only the same user; ttl overrides the default', () => {
  const { clock, svc, at } = setup();
  svc.applyFeed([feed('10.20.3.4', 'j.smith', { ttlMs: HOUR, group: 'staff' })], '10.0.0.9');
  svc.applyFeed([feed('10.20.3.4', 'someone.else', { logoff: true })], '10.0.0.9');
  assert.is(at('10.20.3.4')?.user, 'j.smith');
  clock.t += HOUR;
  assert.is(at('10.20.3.4'), undefined);
});

test('address keys: RFC 5952 text as sockets report it; IPv4 takes single addresses; prefixes /32-/128', () => {
  const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  assert.is(formatIPv6(bytes('00000000000000000000000000000001')), '::1');
  assert.is(formatIPv6(bytes('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
  assert.is(formatIPv6(bytes('20010db8000100000000000000000000')), '2001:db8:1::');
  assert.is(
    formatIPv6(bytes('20010db8000000010001000100010001')),
    '2001:db8:0:1:1:1:1:1',
    'a single zero word is not compressed',
  );
  assert.is(parseAddressKey('2001:0DB8::0001').key, '2001:db8::1');
  assert.is(parseAddressKey('::ffff:10.1.2.3').key, '10.1.2.3');
  assert.throws(() => parseAddressKey('10.0.0.0/24'), /one address/);
  assert.throws(() => parseAddressKey('2001:db8::/16'), /\/32 to \/128/);
  assert.throws(() => parseAddressKey('2001:db8::1/64'), /host bits/);
  assert.throws(() => parseAddressKey('j.smith'), /not an IP address/);
});

test('client stage: a configured user group replaces the address group; access control stays with the address', () => {
  const { svc } = setup();
  const config = configSchema.parse({
    server: { allowed_clients: ['10.0.0.0/8'] },
    groups: { staff: {}, students: { clients: ['10.20.0.0/16'] }, default: {} },
  });
  const groups = new Map<string, CompiledGroup>(
    ['staff', 'students', 'default'].map((n) => [n, { name: n, blockMask: 0n } as unknown as CompiledGroup]),
  );
  const directory = new ClientDirectory(config, groups, groups.get('default')!);
  const seen: (ClientInfo | undefined)[] = [];
  const chain = compose([
    clientStage(directory, svc.index, () => Date.parse('2026-11-30T10:00:00Z')),
    (ctx) => (seen.push(ctx.client), { wire: Buffer.alloc(0), kind: 'forwarded', reason: '' }),
  ]);
  const ask = (address: string) => {
    const raw = query('example.com');
    const r = chain({ address, raw, transport: 'udp', q: parseQuery(raw) } satisfies QueryContext);
    return 'kind' in r && r.kind === 'refused' ? 'refused' : seen[seen.length - 1];
  };
  const view = (c: ReturnType<typeof ask>) =>
    c === 'refused' ? c : { group: c!.group.name, user: c!.user, userGroup: c!.userGroup };
  assert.equal(view(ask('10.20.3.4')), { group: 'students', user: null, userGroup: false });
  svc.applyAccounting([rec({ status: STATUS.START, addresses: ['10.20.3.4', '10.20.3.5', '192.168.1.1'] })]);
  svc.applyAccounting([rec({ status: STATUS.START, addresses: ['10.20.3.5'], user: 'x', session: 's9', groups: ['guest'] })]);
  assert.equal(view(ask('10.20.3.4')), { group: 'staff', user: 'j.smith', userGroup: true });
  assert.is(ask('10.20.3.4'), seen[seen.length - 2], 'the derived info is kept: no allocation per query');
  assert.equal(
    view(ask('10.20.3.5')),
    { group: 'students', user: 'x', userGroup: false },
    'an unconfigured group applies nothing',
  );
  assert.is(ask('192.168.1.1'), 'refused', 'a signed-in user does not open the resolver to an outside address');
});

test.run();
