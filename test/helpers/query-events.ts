import type { QueryEvent } from '../../src/observe/query-event.js';

/**
 * A blocked Instagram lookup by the test device 10.20.1.5 (students) at `at`, as the DNS side hands
 * it to the evidence path; `over` changes any field (another name, a signal, an allowed answer).
 */
export const blockedEvent = (at: number, over: Partial<QueryEvent> = {}): QueryEvent => ({
  at,
  transport: 'udp',
  client: '10.20.1.5',
  group: 'students',
  qname: 'i.instagram.com',
  qtype: 1,
  kind: 'blocked',
  reason: 'instagram',
  entry: 'instagram.com',
  rcode: 3,
  duration: 0,
  upstream: '',
  response: 'NXDOMAIN',
  signal: '',
  recordBlocked: true,
  via: '',
  user: '',
  ...over,
});
