import { copyAccountsOut } from './accounts-schema.js';
import type { Migration } from './migrate.js';

/** What the evidence migrations need beyond the file: where the accounts moved out of it go. */
export interface EvidenceContext {
  accountsPath: string;
}

/**
 * The evidence database's migrations (see migrate.ts): blocked attempts, signals, the access log,
 * the daemon's heartbeat, exceptions and their audit.
 */
export const EVIDENCE_MIGRATIONS: Migration<EvidenceContext>[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE blocked (
        id        INTEGER PRIMARY KEY,
        ts        INTEGER NOT NULL,           -- when the query arrived, ms since the Unix epoch (UTC)
        client    TEXT NOT NULL,              -- client IP address
        device    TEXT NOT NULL DEFAULT '',   -- device name at query time ('' = unknown)
        grp       TEXT NOT NULL,              -- group the client was in
        qname     TEXT NOT NULL,
        qtype     TEXT NOT NULL,              -- A, AAAA, HTTPS, TYPE65280 ...
        category  TEXT NOT NULL,
        entry     TEXT NOT NULL,              -- the list entry that matched
        response  TEXT NOT NULL,              -- what the client was told: NXDOMAIN, NODATA, 0.0.0.0 ...
        transport TEXT NOT NULL               -- udp | tcp
      );
      CREATE INDEX blocked_ts ON blocked (ts);
      CREATE INDEX blocked_client_ts ON blocked (client, ts);

      CREATE TABLE signals (
        id        INTEGER PRIMARY KEY,
        first_ts  INTEGER NOT NULL,
        last_ts   INTEGER NOT NULL,
        client    TEXT NOT NULL,
        device    TEXT NOT NULL DEFAULT '',
        grp       TEXT NOT NULL,
        kind      TEXT NOT NULL,              -- a signal kind of the registry (src/signals/kinds.ts)
        severity  TEXT NOT NULL,              -- low | medium | high
        qname     TEXT NOT NULL,              -- the first name seen
        domain    TEXT NOT NULL,              -- registrable domain (or category for persistent-attempts)
        detail    TEXT NOT NULL,
        count     INTEGER NOT NULL            -- occurrences merged into this row (same client+kind+domain within 10 min)
      );
      CREATE INDEX signals_dedup ON signals (client, kind, domain, last_ts);
      CREATE INDEX signals_ts ON signals (last_ts);

      -- Access log, aggregated: one row per hour, client and registrable domain.
      CREATE TABLE clients (
        id      INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        device  TEXT NOT NULL,
        grp     TEXT NOT NULL,
        UNIQUE (address, device, grp)
      );
      CREATE TABLE domains (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
      CREATE TABLE access_hourly (
        hour      INTEGER NOT NULL,           -- hours since the Unix epoch (UTC): ts / 3600000
        client_id INTEGER NOT NULL REFERENCES clients (id),
        domain_id INTEGER NOT NULL REFERENCES domains (id),
        count     INTEGER NOT NULL,
        first_ts  INTEGER NOT NULL,
        last_ts   INTEGER NOT NULL,
        PRIMARY KEY (hour, client_id, domain_id)
      ) WITHOUT ROWID;

      -- Access log, one row per query (log.access: full).
      CREATE TABLE access (
        id        INTEGER PRIMARY KEY,
        ts        INTEGER NOT NULL,
        client    TEXT NOT NULL,
        device    TEXT NOT NULL DEFAULT '',
        grp       TEXT NOT NULL,
        qname     TEXT NOT NULL,
        qtype     TEXT NOT NULL,
        result    TEXT NOT NULL               -- forwarded | cached | exception
      );
      CREATE INDEX access_ts ON access (ts);

      -- The running daemon's heartbeat (one row), for \`webfilter status\`.
      CREATE TABLE daemon (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        pid          INTEGER NOT NULL,
        version      TEXT NOT NULL,
        started_at   INTEGER NOT NULL,
        last_seen    INTEGER NOT NULL,
        last_write   INTEGER NOT NULL,
        dropped      INTEGER NOT NULL,
        write_errors INTEGER NOT NULL
      );

      -- Readable views for people who query the database directly (times in UTC ISO-8601).
      CREATE VIEW v_blocked AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch') AS time, client, device, grp AS "group",
               qname, qtype, category, entry, response, transport
        FROM blocked;
      CREATE VIEW v_signals AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', first_ts / 1000.0, 'unixepoch') AS first_seen,
               strftime('%Y-%m-%dT%H:%M:%fZ', last_ts / 1000.0, 'unixepoch') AS last_seen,
               client, device, grp AS "group", kind, severity, qname, domain, detail, count
        FROM signals;
      CREATE VIEW v_access_hourly AS
        SELECT strftime('%Y-%m-%dT%H:00Z', a.hour * 3600, 'unixepoch') AS hour, c.address AS client, c.device,
               c.grp AS "group", d.name AS domain, a.count,
               strftime('%Y-%m-%dT%H:%M:%fZ', a.first_ts / 1000.0, 'unixepoch') AS first_seen,
               strftime('%Y-%m-%dT%H:%M:%fZ', a.last_ts / 1000.0, 'unixepoch') AS last_seen
        FROM access_hourly a JOIN clients c ON c.id = a.client_id JOIN domains d ON d.id = a.domain_id;
    `,
  },
  {
    version: 2,
    sql: `
      -- Temporary, approved exceptions (webfilter exception add/revoke). Never deleted: the audit trail.
      CREATE TABLE exceptions (
        id            INTEGER PRIMARY KEY,
        target_kind   TEXT NOT NULL CHECK (target_kind IN ('group', 'client')),
        target        TEXT NOT NULL,            -- group name, or client CIDR
        categories    TEXT NOT NULL,            -- JSON array of category names
        domains       TEXT NOT NULL,            -- JSON array of domains (each covers its subdomains)
        starts_at     INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        reason        TEXT NOT NULL,
        approved_by   TEXT NOT NULL,            -- who gave permission (e.g. the Headteacher)
        created_by    TEXT NOT NULL,            -- OS user who ran the CLI
        created_at    INTEGER NOT NULL,
        revoked_at    INTEGER,
        revoked_by    TEXT,
        revoke_reason TEXT
      );
      CREATE INDEX exceptions_expires ON exceptions (expires_at);
      CREATE TABLE exception_audit (
        id           INTEGER PRIMARY KEY,
        ts           INTEGER NOT NULL,
        exception_id INTEGER NOT NULL REFERENCES exceptions (id),
        action       TEXT NOT NULL,             -- added | revoked
        actor        TEXT NOT NULL,
        detail       TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      -- Review console accounts (webfilter user add/passwd/disable). Never deleted: disabled instead.
      CREATE TABLE users (
        id                  INTEGER PRIMARY KEY,
        name                TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role                TEXT NOT NULL CHECK (role IN ('reviewer', 'ict')),
        password_hash       TEXT NOT NULL,      -- scrypt$N$r$p$salt$key (base64), never the password
        created_at          INTEGER NOT NULL,
        created_by          TEXT NOT NULL,
        password_changed_at INTEGER NOT NULL,
        disabled_at         INTEGER,
        disabled_by         TEXT
      );
      -- Who looked at or changed what (UK GDPR accountability): sign-ins, device views, exports,
      -- exception and account changes, from the console and the CLI.
      CREATE TABLE access_audit (
        id     INTEGER PRIMARY KEY,
        ts     INTEGER NOT NULL,
        actor  TEXT NOT NULL,                   -- console user, or OS user for the CLI
        ip     TEXT NOT NULL,                   -- client address, or 'cli'
        action TEXT NOT NULL,                   -- sign-in, sign-in-failed, sign-out, view-device, export, ...
        target TEXT NOT NULL,                   -- the device, exception id, user, ... acted on
        detail TEXT NOT NULL
      );
      CREATE INDEX access_audit_ts ON access_audit (ts);
    `,
  },
  {
    version: 4,
    sql: `
      -- The names a block was reached through: the CNAME/DNAME/HTTPS chain of a forwarded answer
      -- ("cloak.example → www.facebook.com"), '' when the name asked was itself listed.
      ALTER TABLE blocked ADD COLUMN via TEXT NOT NULL DEFAULT '';
      DROP VIEW v_blocked;
      CREATE VIEW v_blocked AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch') AS time, client, device, grp AS "group",
               qname, qtype, category, entry, response, transport, via
        FROM blocked;
    `,
  },
  {
    version: 5,
    sql: `
      -- Where an exception change came from (the console client's address, or 'cli'): the audit row
      -- written in the change's own transaction is the access audit's record of it. NULL on rows
      -- from before, whose access-audit rows were written separately and are kept there.
      ALTER TABLE exception_audit ADD COLUMN ip TEXT;
    `,
  },
  {
    version: 6,
    rebuildsParent: true,
    sql: `
      -- Who was at the address (RADIUS accounting or the identity feed); NULL when nobody was known.
      ALTER TABLE blocked ADD COLUMN user TEXT;
      ALTER TABLE signals ADD COLUMN user TEXT;
      ALTER TABLE access ADD COLUMN user TEXT;
      CREATE INDEX blocked_user_ts ON blocked (user, ts) WHERE user IS NOT NULL;
      CREATE INDEX signals_user_ts ON signals (user, last_ts) WHERE user IS NOT NULL;
      -- The access aggregates' client key gains the user ('' = nobody known: part of a UNIQUE key).
      CREATE TABLE clients_v6 (
        id      INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        device  TEXT NOT NULL,
        grp     TEXT NOT NULL,
        user    TEXT NOT NULL DEFAULT '',
        UNIQUE (address, device, grp, user)
      );
      INSERT INTO clients_v6 (id, address, device, grp) SELECT id, address, device, grp FROM clients;
      DROP VIEW v_access_hourly;
      DROP TABLE clients;
      ALTER TABLE clients_v6 RENAME TO clients;
      CREATE INDEX clients_user ON clients (user) WHERE user <> '';

      DROP VIEW v_blocked;
      CREATE VIEW v_blocked AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch') AS time, client, device, grp AS "group",
               user, qname, qtype, category, entry, response, transport, via
        FROM blocked;
      DROP VIEW v_signals;
      CREATE VIEW v_signals AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', first_ts / 1000.0, 'unixepoch') AS first_seen,
               strftime('%Y-%m-%dT%H:%M:%fZ', last_ts / 1000.0, 'unixepoch') AS last_seen,
               client, device, grp AS "group", user, kind, severity, qname, domain, detail, count
        FROM signals;
      CREATE VIEW v_access_hourly AS
        SELECT strftime('%Y-%m-%dT%H:00Z', a.hour * 3600, 'unixepoch') AS hour, c.address AS client, c.device,
               c.grp AS "group", NULLIF(c.user, '') AS user, d.name AS domain, a.count,
               strftime('%Y-%m-%dT%H:%M:%fZ', a.first_ts / 1000.0, 'unixepoch') AS first_seen,
               strftime('%Y-%m-%dT%H:%M:%fZ', a.last_ts / 1000.0, 'unixepoch') AS last_seen
        FROM access_hourly a JOIN clients c ON c.id = a.client_id JOIN domains d ON d.id = a.domain_id;

      -- Who is at which address now (RADIUS accounting, the identity feed), kept so the mappings
      -- survive a restart; a row is deleted when its mapping ends or lapses (expires).
      CREATE TABLE identities (
        address  TEXT PRIMARY KEY,              -- "10.20.3.4", "2001:db8::5" or "2001:db8:1:2::/64"
        user     TEXT NOT NULL,
        grp      TEXT,                          -- the group reported (applied only when configured)
        mac      TEXT,
        session  TEXT,                          -- RADIUS Acct-Session-Id
        source   TEXT NOT NULL CHECK (source IN ('radius', 'feed')),
        reporter TEXT NOT NULL,                 -- the NAS, or the feed's caller
        since    INTEGER NOT NULL,
        expires  INTEGER NOT NULL
      );
      CREATE INDEX identities_expires ON identities (expires);
    `,
  },
  {
    version: 7,
    sql: `
      -- Permission requests (issue 26): teachers ask for a category for their group, approvers decide.
      -- The users table gets the two roles and a teacher's groups (a CHECK cannot be altered in
      -- place, so the table is copied; ids are kept).
      CREATE TABLE users_v6 (
        id                  INTEGER PRIMARY KEY,
        name                TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role                TEXT NOT NULL CHECK (role IN ('reviewer', 'ict', 'teacher', 'approver')),
        scope_groups        TEXT NOT NULL DEFAULT '[]',  -- JSON array: the groups a teacher acts for
        password_hash       TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        created_by          TEXT NOT NULL,
        password_changed_at INTEGER NOT NULL,
        disabled_at         INTEGER,
        disabled_by         TEXT
      );
      INSERT INTO users_v6 (id, name, role, password_hash, created_at, created_by, password_changed_at, disabled_at, disabled_by)
        SELECT id, name, role, password_hash, created_at, created_by, password_changed_at, disabled_at, disabled_by FROM users;
      DROP TABLE users;
      ALTER TABLE users_v6 RENAME TO users;
      -- Never deleted: the record of who asked, who decided and what it became.
      CREATE TABLE requests (
        id           INTEGER PRIMARY KEY,
        grp          TEXT NOT NULL,
        categories   TEXT NOT NULL,             -- JSON array of category names
        starts_at    INTEGER,                   -- NULL: from its approval (a request for now)
        expires_at   INTEGER NOT NULL,
        lesson       TEXT,                      -- the lesson asked for, as shown ("10:00-11:00 on Tue 24 Nov")
        reason       TEXT NOT NULL,
        requested_by TEXT NOT NULL,             -- the teacher's account
        requested_at INTEGER NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined', 'expired')),
        decided_by   TEXT,                      -- the approver's account, or the standing permission
        decided_at   INTEGER,
        note         TEXT NOT NULL DEFAULT '',
        exception_id INTEGER REFERENCES exceptions (id),
        notified_at  INTEGER                    -- when the approvers were told of it
      );
      CREATE INDEX requests_pending ON requests (state, coalesce(starts_at, expires_at));
      CREATE INDEX requests_requested_at ON requests (requested_at);
      CREATE TABLE request_audit (
        id         INTEGER PRIMARY KEY,
        ts         INTEGER NOT NULL,
        request_id INTEGER NOT NULL REFERENCES requests (id),
        action     TEXT NOT NULL CHECK (action IN ('requested', 'approved', 'declined', 'expired')),
        actor      TEXT NOT NULL,
        ip         TEXT NOT NULL,               -- client address, 'cli', or 'daemon' (expiry)
        detail     TEXT NOT NULL
      );
      CREATE INDEX request_audit_ts ON request_audit (ts);
      -- The request an exception grants, and who asked (the link back is requests.exception_id).
      ALTER TABLE exceptions ADD COLUMN request_id INTEGER REFERENCES requests (id);
      ALTER TABLE exceptions ADD COLUMN requested_by TEXT;
    `,
  },
  {
    version: 8,
    sql: `
      -- The optional parts' health at the last heartbeat (JSON: part -> {state, detail, since}), so
      -- \`webfilter status\` can tell when the metrics listener cannot.
      ALTER TABLE daemon ADD COLUMN components TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 9,
    sql: `
      -- The online safety officer's review of a signal: the outcome, a note, who and when (NULL: not
      -- reviewed yet). On the signal's own row, so it has the signal's retention and goes with it
      -- into a subject-access export. A reviewed row takes no more occurrences: a repeat after the
      -- review starts a new, unreviewed signal.
      ALTER TABLE signals ADD COLUMN review_outcome TEXT;
      ALTER TABLE signals ADD COLUMN review_note TEXT;
      ALTER TABLE signals ADD COLUMN review_by TEXT;
      ALTER TABLE signals ADD COLUMN review_at INTEGER;
      CREATE INDEX signals_unreviewed ON signals (last_ts) WHERE review_at IS NULL;
      DROP VIEW v_signals;
      CREATE VIEW v_signals AS
        SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', first_ts / 1000.0, 'unixepoch') AS first_seen,
               strftime('%Y-%m-%dT%H:%M:%fZ', last_ts / 1000.0, 'unixepoch') AS last_seen,
               client, device, grp AS "group", user, kind, severity, qname, domain, detail, count,
               review_outcome, review_note, review_by,
               strftime('%Y-%m-%dT%H:%M:%fZ', review_at / 1000.0, 'unixepoch') AS reviewed_at
        FROM signals;

      -- The safeguarding alerts' delivery state per channel (email, webhook), for webfilter status,
      -- and the day of the last daily digest (key 'digest', in last_sent).
      CREATE TABLE alert_state (
        key         TEXT PRIMARY KEY,
        last_sent   INTEGER,
        last_failed INTEGER,
        last_error  TEXT,
        sent        INTEGER NOT NULL DEFAULT 0,   -- since the daemon started
        failed      INTEGER NOT NULL DEFAULT 0,
        abandoned   INTEGER NOT NULL DEFAULT 0,
        queued      INTEGER NOT NULL DEFAULT 0,
        updated_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 10,
    // The rows are copied to the accounts file first (and checked there); the freed pages are
    // overwritten (secure_delete) and given back, so no password hash stays readable in this file.
    before: (db, { accountsPath }) => {
      copyAccountsOut(db, accountsPath);
      db.pragma('secure_delete = ON');
    },
    after: (db) => {
      db.pragma('secure_delete = OFF');
      db.pragma('incremental_vacuum');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    sql: `
      -- Console accounts and the access audit now live in the accounts file beside this one
      -- (readable by the service user only): this file holds evidence the review group may read.
      DROP TABLE IF EXISTS users;
      DROP TABLE IF EXISTS access_audit;
      -- Signal reviews are audited beside the review, in the same transaction (as exceptions and
      -- requests are), and shown in the access audit.
      CREATE TABLE review_audit (
        id        INTEGER PRIMARY KEY,
        ts        INTEGER NOT NULL,
        signal_id INTEGER NOT NULL,             -- the signal's number (the row may since have been purged)
        actor     TEXT NOT NULL,
        ip        TEXT NOT NULL,                -- console client address, or 'cli'
        detail    TEXT NOT NULL                 -- the outcome and the note
      );
      CREATE INDEX review_audit_ts ON review_audit (ts);
    `,
  },
  {
    version: 11,
    sql: `
      -- Issue 25: evidence at a school's scale.
      -- A change counter (seq) on every row a central store ships: the next value of the database's
      -- counter, set when the row is written and again whenever it changes (a repeat counted on it).
      CREATE TABLE evidence_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      INSERT INTO evidence_seq (id, value) VALUES (1, 0);

      -- Repeats collapsed: one row stands for \`count\` attempts from ts (first) to last_ts.
      ALTER TABLE blocked ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE blocked ADD COLUMN last_ts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE blocked ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE blocked SET last_ts = ts;
      ALTER TABLE signals ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE access_hourly ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

      -- Roll-ups for reading, kept by the writer as it writes: blocked attempts per hour by group and
      -- category, and per day (UTC) by device.
      CREATE TABLE blocked_hourly (
        hour     INTEGER NOT NULL,            -- hours since the Unix epoch (UTC)
        grp      TEXT NOT NULL,
        category TEXT NOT NULL,
        count    INTEGER NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (hour, grp, category)
      ) WITHOUT ROWID;
      CREATE TABLE blocked_device_daily (
        day      INTEGER NOT NULL,            -- days since the Unix epoch (UTC)
        client   TEXT NOT NULL,
        device   TEXT NOT NULL,
        grp      TEXT NOT NULL,
        count    INTEGER NOT NULL,
        first_ts INTEGER NOT NULL,
        last_ts  INTEGER NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (day, client, device, grp)
      ) WITHOUT ROWID;
      INSERT INTO blocked_hourly (hour, grp, category, count, seq)
        SELECT ts / 3600000, grp, category, count(*), 0 FROM blocked GROUP BY 1, 2, 3;
      INSERT INTO blocked_device_daily (day, client, device, grp, count, first_ts, last_ts, seq)
        SELECT ts / 86400000, client, device, grp, count(*), min(ts), max(ts), 0 FROM blocked GROUP BY 1, 2, 3, 4;

      -- Rows from before the counter are numbered now, table after table.
      UPDATE blocked SET seq = id;
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM blocked), 0);
      UPDATE signals SET seq = id + (SELECT value FROM evidence_seq);
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM signals), value);
      UPDATE access_hourly SET seq = n.seq FROM (
        SELECT hour AS h, client_id AS c, domain_id AS d, (SELECT value FROM evidence_seq) + row_number() OVER () AS seq
        FROM access_hourly) AS n
        WHERE n.h = access_hourly.hour AND n.c = access_hourly.client_id AND n.d = access_hourly.domain_id;
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM access_hourly), value);
      UPDATE blocked_hourly SET seq = n.seq FROM (
        SELECT hour AS h, grp AS g, category AS c, (SELECT value FROM evidence_seq) + row_number() OVER () AS seq
        FROM blocked_hourly) AS n
        WHERE n.h = blocked_hourly.hour AND n.g = blocked_hourly.grp AND n.c = blocked_hourly.category;
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM blocked_hourly), value);
      UPDATE blocked_device_daily SET seq = n.seq FROM (
        SELECT day AS d, client AS c, device AS v, grp AS g, (SELECT value FROM evidence_seq) + row_number() OVER () AS seq
        FROM blocked_device_daily) AS n
        WHERE n.d = blocked_device_daily.day AND n.c = blocked_device_daily.client AND n.v = blocked_device_daily.device
          AND n.g = blocked_device_daily.grp;
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM blocked_device_daily), value);

      -- The reviews' audit is only ever inserted into: its rows take the counter's next value as they
      -- are written (a trigger, so every writer is covered). The access audit lives in the accounts
      -- file, with a counter of its own (accounts-schema.ts).
      ALTER TABLE review_audit ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      UPDATE review_audit SET seq = id + (SELECT value FROM evidence_seq);
      UPDATE evidence_seq SET value = coalesce((SELECT max(seq) FROM review_audit), value);
      CREATE TRIGGER review_audit_seq AFTER INSERT ON review_audit BEGIN
        UPDATE evidence_seq SET value = value + 1 WHERE id = 1;
        UPDATE review_audit SET seq = (SELECT value FROM evidence_seq WHERE id = 1) WHERE id = NEW.id;
      END;
      CREATE INDEX review_audit_seq ON review_audit (seq);

      CREATE INDEX blocked_seq ON blocked (seq);
      CREATE INDEX signals_seq ON signals (seq);
      CREATE INDEX access_hourly_seq ON access_hourly (seq);
      CREATE INDEX blocked_hourly_seq ON blocked_hourly (seq);
      CREATE INDEX blocked_device_daily_seq ON blocked_device_daily (seq);
      -- The console's drill-down filters: device, group (and category), newest first.
      CREATE INDEX blocked_device_ts ON blocked (device, ts);
      CREATE INDEX blocked_grp_ts ON blocked (grp, category, ts);

      DROP VIEW v_blocked;
      CREATE VIEW v_blocked AS
        SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch') AS time,
               strftime('%Y-%m-%dT%H:%M:%fZ', last_ts / 1000.0, 'unixepoch') AS last_time, count,
               client, device, grp AS "group", user, qname, qtype, category, entry, response, transport, via
        FROM blocked;
    `,
  },
  {
    version: 12,
    sql: `
      -- The Devices page's summary (issue 25), kept by the evidence writer and counted down by the
      -- purge (sqlite/device-totals.ts): per device, address and group, blocked attempts and signals
      -- with the newest time of each kind of evidence. Built here from a full scan.
      CREATE TABLE device_totals (
        device       TEXT NOT NULL,
        client       TEXT NOT NULL,
        grp          TEXT NOT NULL,
        blocked      INTEGER NOT NULL DEFAULT 0,  -- sum of blocked_device_daily.count
        blocked_last INTEGER,                     -- newest blocked_device_daily.last_ts
        signals      INTEGER NOT NULL DEFAULT 0,  -- signal rows
        signals_last INTEGER,                     -- newest signals.last_ts
        access_last  INTEGER,                     -- newest access_hourly.last_ts of its clients rows
        PRIMARY KEY (device, client, grp)
      ) WITHOUT ROWID;
      INSERT INTO device_totals (device, client, grp, blocked, blocked_last, signals, signals_last, access_last)
        SELECT device, client, grp, sum(blocked), max(bl), sum(signals), max(sl), max(al) FROM (
          SELECT device, client, grp, sum(count) AS blocked, max(last_ts) AS bl, 0 AS signals, NULL AS sl, NULL AS al
            FROM blocked_device_daily GROUP BY 1, 2, 3
          UNION ALL
          SELECT device, client, grp, 0, NULL, count(*), max(last_ts), NULL FROM signals GROUP BY 1, 2, 3
          UNION ALL
          SELECT c.device, c.address, c.grp, 0, NULL, 0, NULL, max(a.last_ts)
            FROM clients c JOIN access_hourly a ON a.client_id = c.id GROUP BY 1, 2, 3
        ) GROUP BY 1, 2, 3;
    `,
  },
];
