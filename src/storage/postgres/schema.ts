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
];

/** The version this code brings. */
export const PG_LATEST = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;
