import { ACCOUNTS_PG_SQL, SIGN_IN_FAILURES_PG_SQL } from './accounts-schema.js';
import { PARTITION_MIGRATION_SQL } from './evidence-partitions.js';

/**
 * The shared store's schema, as versioned migrations applied in order (like the SQLite ones): the
 * version reached is in `webfilter_schema`; an older store is upgraded in place, never wiped; a
 * newer one is refused. Never edit a released migration: add the next one.
 */
export interface PgMigration {
  version: number;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
-- Exceptions of every site. change_seq numbers each change (add, revoke) across the store: a node
-- that lost contact asks for the rows changed after the last number it applied.
CREATE SEQUENCE exception_change_seq;
CREATE TABLE exceptions (
  id            bigserial PRIMARY KEY,
  site          text NOT NULL,
  node          text NOT NULL,
  -- "node/local id" for one first applied on a box alone (--local) and pushed later: pushed once.
  origin        text UNIQUE,
  target_kind   text NOT NULL CHECK (target_kind IN ('group', 'client')),
  target        text NOT NULL,
  categories    jsonb NOT NULL,
  domains       jsonb NOT NULL,
  starts_at     timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  reason        text NOT NULL,
  approved_by   text NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoked_by    text,
  revoke_reason text,
  request_id    bigint,
  requested_by  text,
  change_seq    bigint NOT NULL
);
CREATE INDEX exceptions_site_change ON exceptions (site, change_seq);
CREATE INDEX exceptions_site_expires ON exceptions (site, expires_at);
CREATE TABLE exception_audit (
  id           bigserial PRIMARY KEY,
  site         text NOT NULL,
  node         text NOT NULL,
  ts           timestamptz NOT NULL,
  exception_id bigint NOT NULL REFERENCES exceptions (id),
  action       text NOT NULL CHECK (action IN ('added', 'revoked')),
  actor        text NOT NULL,
  ip           text,
  detail       text NOT NULL
);
CREATE INDEX exception_audit_site_ts ON exception_audit (site, ts);
-- Each filter's last report: when it was seen and the last exception change it applied (status, lag).
CREATE TABLE nodes (
  site           text NOT NULL,
  node           text NOT NULL,
  last_seen      timestamptz NOT NULL,
  applied_change bigint NOT NULL DEFAULT 0,
  version        text NOT NULL,
  PRIMARY KEY (site, node)
);
`,
  },
  {
    version: 2,
    // Issue 17: the evidence every filter ships (src/storage/sqlite/evidence-schema.ts, accounts-schema.ts).
    // Columns mirror the SQLite ones (times stay bigint ms since the Unix epoch, hour/day as numbers
    // since the epoch) so a review query translates 1:1; "user" is user_name here (user is a
    // reserved word in PostgreSQL: an unquoted user reads the session's role). Every row carries
    // site, node and its key on that node; a row whose key is a local rowid also keeps its first
    // time in the unique key, so a rowid SQLite reuses after its table was emptied is a new row.
    sql: `
CREATE TABLE blocked (
  id        bigserial PRIMARY KEY,
  site      text NOT NULL,
  node      text NOT NULL,
  local_id  bigint NOT NULL,
  ts        bigint NOT NULL,
  last_ts   bigint NOT NULL,
  count     bigint NOT NULL,
  client    text NOT NULL,
  device    text NOT NULL,
  grp       text NOT NULL,
  user_name text,
  qname     text NOT NULL,
  qtype     text NOT NULL,
  category  text NOT NULL,
  entry     text NOT NULL,
  response  text NOT NULL,
  transport text NOT NULL,
  via       text NOT NULL,
  UNIQUE (site, node, local_id, ts)
);
CREATE INDEX blocked_site_ts ON blocked (site, ts);
CREATE INDEX blocked_site_last_ts ON blocked (site, last_ts);
CREATE INDEX blocked_site_client_ts ON blocked (site, client, ts);
CREATE INDEX blocked_site_device_ts ON blocked (site, device, ts);
CREATE INDEX blocked_site_grp_ts ON blocked (site, grp, category, ts);
CREATE INDEX blocked_site_user_ts ON blocked (site, user_name, ts) WHERE user_name IS NOT NULL;

CREATE TABLE signals (
  id             bigserial PRIMARY KEY,
  site           text NOT NULL,
  node           text NOT NULL,
  local_id       bigint NOT NULL,
  first_ts       bigint NOT NULL,
  last_ts        bigint NOT NULL,
  count          bigint NOT NULL,
  client         text NOT NULL,
  device         text NOT NULL,
  grp            text NOT NULL,
  user_name      text,
  kind           text NOT NULL,
  severity       text NOT NULL,
  qname          text NOT NULL,
  domain         text NOT NULL,
  detail         text NOT NULL,
  -- The review: written here by the console when shared is set; shipping fills them only while empty.
  review_outcome text,
  review_note    text,
  review_by      text,
  review_at      bigint,
  UNIQUE (site, node, local_id, first_ts)
);
CREATE INDEX signals_site_last_ts ON signals (site, last_ts);
CREATE INDEX signals_site_first_ts ON signals (site, first_ts);
CREATE INDEX signals_site_client ON signals (site, client, kind, last_ts);
CREATE INDEX signals_site_device ON signals (site, device, last_ts);
CREATE INDEX signals_site_user ON signals (site, user_name, last_ts) WHERE user_name IS NOT NULL;
CREATE INDEX signals_site_unreviewed ON signals (site, last_ts) WHERE review_at IS NULL;

-- The access aggregates, one row per hour, client (address, device, group, user) and domain: the
-- local clients and domains tables are folded in (their ids are per node).
CREATE TABLE access_hourly (
  site      text NOT NULL,
  node      text NOT NULL,
  hour      bigint NOT NULL,
  client    text NOT NULL,
  device    text NOT NULL,
  grp       text NOT NULL,
  user_name text NOT NULL DEFAULT '',
  domain    text NOT NULL,
  count     bigint NOT NULL,
  first_ts  bigint NOT NULL,
  last_ts   bigint NOT NULL,
  PRIMARY KEY (site, node, hour, client, device, grp, user_name, domain)
);
CREATE INDEX access_hourly_site_hour ON access_hourly (site, hour);
CREATE INDEX access_hourly_site_client ON access_hourly (site, client, hour);
CREATE INDEX access_hourly_site_device ON access_hourly (site, device, hour);

-- The per-query access log (log.access: full).
CREATE TABLE access (
  id        bigserial PRIMARY KEY,
  site      text NOT NULL,
  node      text NOT NULL,
  local_id  bigint NOT NULL,
  ts        bigint NOT NULL,
  client    text NOT NULL,
  device    text NOT NULL,
  grp       text NOT NULL,
  user_name text,
  qname     text NOT NULL,
  qtype     text NOT NULL,
  result    text NOT NULL,
  UNIQUE (site, node, local_id, ts)
);
CREATE INDEX access_site_ts ON access (site, ts);

CREATE TABLE blocked_hourly (
  site     text NOT NULL,
  node     text NOT NULL,
  hour     bigint NOT NULL,
  grp      text NOT NULL,
  category text NOT NULL,
  count    bigint NOT NULL,
  PRIMARY KEY (site, node, hour, grp, category)
);
CREATE INDEX blocked_hourly_site_hour ON blocked_hourly (site, hour);

CREATE TABLE blocked_device_daily (
  site     text NOT NULL,
  node     text NOT NULL,
  day      bigint NOT NULL,
  client   text NOT NULL,
  device   text NOT NULL,
  grp      text NOT NULL,
  count    bigint NOT NULL,
  first_ts bigint NOT NULL,
  last_ts  bigint NOT NULL,
  PRIMARY KEY (site, node, day, client, device, grp)
);
CREATE INDEX blocked_device_daily_site_day ON blocked_device_daily (site, day);

-- A signal review's audit. Shipped rows have local_id and signal_local_id (the signal's local id on
-- that node); rows the console writes here directly have local_id NULL. signal_id is the signal's
-- id in this store (looked up when shipped; NULL if the signal is not here).
CREATE TABLE review_audit (
  id              bigserial PRIMARY KEY,
  site            text NOT NULL,
  node            text NOT NULL,
  local_id        bigint,
  ts              bigint NOT NULL,
  signal_id       bigint,
  signal_local_id bigint,
  actor           text NOT NULL,
  ip              text NOT NULL,
  detail          text NOT NULL,
  UNIQUE (site, node, local_id, ts)
);
CREATE INDEX review_audit_site_ts ON review_audit (site, ts);

-- Who looked at or changed what (the accounts file's access audit). Shipped rows have local_id;
-- rows written here directly (shared accounts) have it NULL.
CREATE TABLE access_audit (
  id       bigserial PRIMARY KEY,
  site     text NOT NULL,
  node     text NOT NULL,
  local_id bigint,
  ts       bigint NOT NULL,
  actor    text NOT NULL,
  ip       text NOT NULL,
  action   text NOT NULL,
  target   text NOT NULL,
  detail   text NOT NULL,
  UNIQUE (site, node, local_id, ts)
);
CREATE INDEX access_audit_site_ts ON access_audit (site, ts);

-- Each filter's shipping, as it last reported (webfilter shared status).
ALTER TABLE nodes ADD COLUMN shipped_at timestamptz;
ALTER TABLE nodes ADD COLUMN backlog_rows bigint NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN lag_seconds double precision NOT NULL DEFAULT 0;
`,
  },
  // Issue 17: the console accounts and sessions of the whole trust (accounts-schema.ts).
  { version: 3, sql: ACCOUNTS_PG_SQL },
  // Issue 17, central retention: the evidence tables partitioned by month, rows moved in one
  // transaction (evidence-partitions.ts); the retention's last run (maintenance).
  { version: 4, sql: PARTITION_MIGRATION_SQL },
  // Issue 17, security finding 6: failed sign-ins counted for the whole trust (accounts-schema.ts).
  { version: 5, sql: SIGN_IN_FAILURES_PG_SQL },
  // Issue 25: a trust-wide reader's queries name no site, and an index that starts with the site
  // serves none of them: on a year of a school they read whole month partitions (the Blocked page's
  // newest 500, a name search, a device's page). Indexes on the partitioned tables are made on every
  // month partition, and on each new one.
  {
    version: 6,
    sql: `
CREATE INDEX blocked_ts ON blocked (ts);
CREATE INDEX blocked_device_ts ON blocked (device, ts);
CREATE INDEX signals_device_last_ts ON signals (device, last_ts);
`,
  },
  // Issue 25, the same for the Overview and a device's page: a trust-wide period's signals by kind
  // (their last time), its activity chart (their first time) and a device's access aggregates read
  // every partition, or a month of one, without them.
  {
    version: 7,
    sql: `
CREATE INDEX signals_last_ts ON signals (last_ts);
CREATE INDEX signals_first_ts ON signals (first_ts);
CREATE INDEX access_hourly_device_hour ON access_hourly (device, hour);
`,
  },
];

/** The version this code brings. */
export const PG_LATEST = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;
