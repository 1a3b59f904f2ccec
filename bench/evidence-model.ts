/**
 * A school's DNS traffic as the evidence store sees it, for `npm run bench:evidence`: the query
 * events (blocked, forwarded, cached, exception) of N devices over D days, in time order, minute by
 * minute, with historic timestamps.
 *
 * The model (numbers are per school day, 08:00-16:00 UTC on weekdays; weekends are quiet):
 * - 60% of devices are phones. Each has 1-3 blocked social-media apps whose API, CDN, push and
 *   telemetry names it retries in the background all day: each (name, type) asks again when the
 *   block answer's TTL (60 s) has run out and the app next tries, 60-80 s after the last time.
 * - The rest are laptops (every 20th a staff laptop): browsing 20-30 sites an hour, 2-6 lookups each
 *   (forwarded or cached: the access aggregates), and now and then a blocked site tried by hand.
 * - Circumvention episodes: a few students a day look up VPN, proxy or encrypted-DNS names (signals).
 * - Exceptions: one class a day has YouTube opened for an hour (answers given under the exception).
 * The random numbers are seeded: the same arguments give the same events.
 */
import type { QueryEvent } from '../src/observe/query-event.js';

export interface ModelOptions {
  devices: number;
  days: number;
  /** Midnight UTC of the first day. */
  start: number;
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const A = 1;
const AAAA = 28;
const HTTPS = 65;

/** Blocked apps: category and the names their background requests use. */
const APPS: { category: string; names: string[] }[] = [
  {
    category: 'tiktok',
    names: ['api16-normal-c-useast1a.tiktokv.com', 'v16m.tiktokcdn.com', 'log.tiktokv.com', 'mon.tiktokv.com'],
  },
  { category: 'instagram', names: ['i.instagram.com', 'graph.instagram.com', 'scontent-lhr8-1.cdninstagram.com'] },
  { category: 'snapchat', names: ['app.snapchat.com', 'gcp.api.snapchat.com', 'cf-st.sc-cdn.net'] },
  { category: 'facebook', names: ['graph.facebook.com', 'edge-mqtt.facebook.com', 'b-api.facebook.com'] },
  { category: 'twitter-x', names: ['api.x.com', 'pbs.twimg.com', 'video.twimg.com'] },
];
const VPN = ['nordvpn.com', 'api.nordvpn.com', 'protonvpn.com', 'www.hidemyass.com', 'croxyproxy.com'];
const DOH = ['dns.google', 'cloudflare-dns.com', 'mozilla.cloudflare-dns.com', 'dns.quad9.net'];
const YOUTUBE = ['www.youtube.com', 'i.ytimg.com', 'youtubei.googleapis.com', 'rr3---sn-aigl6n7r.googlevideo.com'];
const SITES = 5000;

/** Deterministic random numbers (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Device {
  client: string;
  name: string;
  group: string;
  phone: boolean;
}

export function devices(n: number): Device[] {
  return Array.from({ length: n }, (_, i) => {
    const phone = i % 10 < 6;
    const staff = !phone && i % 20 === 19;
    return {
      client: `10.${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      name: `${phone ? 'PH' : staff ? 'ST-LT' : 'LT'}-${String(i).padStart(4, '0')}`,
      group: staff ? 'staff' : 'students',
      phone,
    };
  });
}

function event(
  at: number,
  d: Device,
  qname: string,
  qtype: number,
  kind: QueryEvent['kind'],
  reason: string,
  entry = '',
  signal = '',
): QueryEvent {
  const blocked = kind === 'blocked';
  return {
    at,
    transport: 'udp',
    client: d.client,
    group: d.group,
    qname,
    qtype,
    kind,
    reason,
    entry,
    rcode: blocked ? 3 : 0,
    duration: 0.0004,
    upstream: kind === 'forwarded' || kind === 'exception' ? '192.0.2.53' : '',
    response: blocked ? 'NXDOMAIN' : '',
    signal,
    recordBlocked: true,
    via: '',
    user: '',
  };
}

const registrable = (name: string) => name.split('.').slice(-2).join('.');

interface Stream {
  d: Device;
  qname: string;
  qtype: number;
  category: string;
  next: number;
  until: number;
}

/**
 * The events of each school day's minutes, in time order (one array per minute). `onDay` is called
 * at the start of each day with its number.
 */
export function* schoolEvents(o: ModelOptions, onDay: (day: number, start: number) => void = () => {}): Generator<QueryEvent[]> {
  const rand = random(42);
  const all = devices(o.devices);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  for (let day = 0; day < o.days; day++) {
    const dayStart = o.start + day * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    onDay(day, dayStart);
    if (weekday === 0 || weekday === 6) continue;
    const open = dayStart + 8 * HOUR;
    const close = dayStart + 16 * HOUR;
    // Phones: background retries from arrival to departure.
    const streams: Stream[] = [];
    for (const d of all) {
      if (!d.phone || rand() < 0.08) continue; // absent today
      const arrive = open - 15 * MIN + Math.floor(rand() * 45 * MIN);
      const leave = close - 45 * MIN + Math.floor(rand() * 45 * MIN);
      const apps = new Set<(typeof APPS)[number]>();
      const n = 1 + Math.floor(rand() * 3);
      while (apps.size < n) apps.add(pick(APPS));
      for (const app of apps)
        for (const qname of app.names) {
          const r = rand();
          const qtype = r < 0.6 ? A : r < 0.85 ? AAAA : HTTPS;
          streams.push({ d, qname, qtype, category: app.category, next: arrive + Math.floor(rand() * MIN), until: leave });
        }
    }
    // Laptops: the sites of each hour, each looked up a few times within it.
    const laptops = all.filter((d) => !d.phone);
    // Circumvention episodes and the class with an exception.
    const episodes = Array.from({ length: 3 + Math.floor(rand() * 5) }, () => ({
      d: pick(all),
      at: open + Math.floor(rand() * 7 * HOUR),
      doh: rand() < 0.4,
    }));
    const exceptionHour = open + Math.floor(rand() * 7) * HOUR;
    const exceptionClass = new Set(laptops.filter(() => rand() < 0.03));

    for (let m = open - HOUR; m < close + HOUR; m += MIN) {
      const out: QueryEvent[] = [];
      for (const s of streams) {
        while (s.next < m + MIN && s.next < s.until) {
          out.push(event(s.next, s.d, s.qname, s.qtype, 'blocked', s.category, registrable(s.qname)));
          s.next += MIN + Math.floor(rand() * 20_000);
        }
      }
      if (m >= open && m < close) {
        for (const d of laptops) {
          // About 25 sites an hour, 2-6 lookups each: spread as ~1.7 lookups a minute.
          const lookups = rand() < 0.7 ? 1 + Math.floor(rand() * 3) : 0;
          for (let k = 0; k < lookups; k++) {
            const site = Math.floor(SITES ** rand()) - 1;
            const name = `www.site${site}.example.co.uk`;
            out.push(
              event(m + Math.floor(rand() * MIN), d, name, rand() < 0.7 ? A : AAAA, rand() < 0.5 ? 'cached' : 'forwarded', ''),
            );
          }
          if (rand() < 0.004) {
            const app = pick(APPS);
            const at = m + Math.floor(rand() * MIN);
            for (const qtype of [A, AAAA])
              out.push(event(at, d, app.names[0], qtype, 'blocked', app.category, registrable(app.names[0])));
          }
          if (exceptionClass.has(d) && m >= exceptionHour && m < exceptionHour + HOUR && rand() < 0.5)
            out.push(event(m + Math.floor(rand() * MIN), d, pick(YOUTUBE), A, 'exception', 'youtube'));
        }
        for (const e of episodes) {
          if (m < e.at || m >= e.at + 10 * MIN) continue;
          for (let k = 0; k < 3; k++) {
            const name = pick(e.doh ? DOH : VPN);
            const category = e.doh ? 'encrypted-dns' : 'vpn-proxy';
            out.push(event(m + Math.floor(rand() * MIN), e.d, name, A, 'blocked', category, registrable(name), category));
          }
        }
      }
      out.sort((a, b) => a.at - b.at);
      yield out;
    }
  }
}
