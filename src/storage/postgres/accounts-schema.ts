/**
 * The shared console accounts (PostgreSQL migration 3, issue 17): users with their scope, and the
 * console sessions, so one account signs in at any filter of the trust and one cookie works at
 * every console. The access audit goes into `access_audit` (migration 2) with `local_id` NULL.
 * Times are bigint ms since the Unix epoch, as in SQLite and the evidence tables.
 */
export const ACCOUNTS_PG_SQL = `
-- Console accounts of the whole trust (webfilter user add/passwd/disable/groups/scope). Never
-- deleted: disabled instead, so the audit trail keeps its names.
CREATE TABLE users (
  id                  bigserial PRIMARY KEY,
  name                text NOT NULL,
  role                text NOT NULL,
  groups              jsonb NOT NULL DEFAULT '[]',  -- the groups a teacher acts for
  sites               jsonb,                        -- the sites it may see; NULL: the whole trust
  password_hash       text NOT NULL,                -- scrypt$N$r$p$salt$key (base64), never the password
  created_at          bigint NOT NULL,
  created_by          text NOT NULL,
  created_site        text NOT NULL,                -- the site whose filter the account was made on
  password_changed_at bigint NOT NULL,
  disabled_at         bigint,
  disabled_by         text
);
CREATE UNIQUE INDEX users_name ON users (lower(name));

-- Signed-in console sessions: only a hash of the cookie's token is kept. Signing out at one
-- console deletes the row, so the cookie ends at every console.
CREATE TABLE console_sessions (
  token_hash text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  user_name  text NOT NULL,
  role       text NOT NULL,
  csrf       text NOT NULL,
  created_at bigint NOT NULL,
  last_seen  bigint NOT NULL,
  site       text NOT NULL,                         -- where it was signed in
  node       text NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
`;

/**
 * Failed sign-ins of the whole trust (PostgreSQL migration 5, issue 17, security finding 6): one
 * count per key (`u:<account>@<address>`, `ip:<address>`), shared by every console and CLI, so the
 * throttle of storage/sign-in-throttle.ts holds however many filters a guesser goes through. Timed
 * by PostgreSQL's clock; a key idle past the window is deleted as later failures are counted.
 */
export const SIGN_IN_FAILURES_PG_SQL = `
CREATE TABLE sign_in_failures (
  key      text PRIMARY KEY,
  failures int NOT NULL,
  last_at  timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_last_at ON sign_in_failures (last_at);
`;
