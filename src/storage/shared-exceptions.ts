import type { AuditEntry, AuditFilter } from './accounts.js';
import {
  ExceptionChangeError,
  ExceptionScopeError,
  type ChangedBy,
  type ExceptionRecord,
  type ExceptionsListener,
  type ExceptionsRepository,
  type NewException,
} from './exceptions.js';
import type { PostgresExceptions } from './postgres/exceptions.js';
import { SharedUnavailableError } from './shared-errors.js';
import { outsideScope } from './scope.js';
import type { SqliteExceptionCopy } from './sqlite/shared-copy.js';
import type { SqliteExceptions } from './sqlite/exceptions.js';

export interface SharedExceptionsParts {
  /** The site's exceptions in the shared store. */
  remote: PostgresExceptions;
  /** This box's own exceptions table: ones made here alone (`--local`, a request approved here). */
  local: SqliteExceptions;
  /** This box's copy of the shared ones (enforced through an outage). */
  copy: SqliteExceptionCopy;
  /** Applies the shared store's migrations (once, before the first catch-up). */
  migrate: () => Promise<unknown>;
  /** This filter's site: the only one whose exceptions it changes. */
  site: string;
  node: string;
  version: string;
}

/** An exception made on this box alone shows a negative id until it reaches the shared store. */
const pendingId = (localId: number) => -localId;

/**
 * Exceptions when several filters share one store (`shared`): they live in PostgreSQL, every change
 * in one transaction with its audit row and a NOTIFY. The daemon's subscription keeps a local copy
 * current (LISTEN, catch-up by change number after every reconnection and on a safety poll) and
 * enforces from it, so known exceptions hold, and expire at their exact times, while the shared
 * store is away. An exception made here alone (`addLocal`, or a permission request approved on this
 * box) is enforced here at once and pushed to the shared store, with its own times, approval and
 * audit, as soon as it can be reached. Nothing here runs on the DNS thread.
 */
export class SharedExceptions implements ExceptionsRepository {
  constructor(private readonly p: SharedExceptionsParts) {}

  /** Refuses a change by an account whose scope leaves out this filter's site. */
  private inScope(by: ChangedBy): void {
    const why = outsideScope(by.actor, by.scope, this.p.site);
    if (why) throw new ExceptionScopeError(why);
  }

  /** Adds to the shared store; SharedUnavailableError (nothing added anywhere) when it cannot be reached. */
  async add(e: NewException, by: ChangedBy): Promise<ExceptionRecord> {
    this.inScope(by);
    return this.p.remote.add(e, by);
  }

  /** Adds on this box only, now; the daemon pushes it to the shared store when it can. */
  async addLocal(e: NewException, by: ChangedBy): Promise<ExceptionRecord> {
    this.inScope(by);
    const r = await this.p.local.add(e, by);
    return { ...r, id: pendingId(r.id) };
  }

  async revoke(id: number, reason: string, by: ChangedBy): Promise<ExceptionRecord> {
    this.inScope(by);
    if (id > 0) return this.p.remote.revoke(id, reason, by);
    const localId = -id;
    const pushed = this.p.copy.pushed().get(localId);
    if (pushed) {
      throw new ExceptionChangeError(
        `exception ${id} has reached the shared store as exception ${pushed.sharedId}: revoke ${pushed.sharedId}`,
      );
    }
    try {
      return { ...(await this.p.local.revoke(localId, reason, by)), id };
    } catch (e) {
      if (e instanceof ExceptionChangeError)
        throw new ExceptionChangeError(e.message.replace(`exception ${localId}`, `exception ${id}`));
      throw e;
    }
  }

  async all(): Promise<ExceptionRecord[]> {
    const shared = await this.orCopy(
      () => this.p.remote.all(),
      () => this.p.copy.all(),
    );
    return [...(await this.pending()).reverse(), ...shared];
  }

  async current(now: number): Promise<ExceptionRecord[]> {
    const shared = await this.orCopy(
      () => this.p.remote.current(now),
      () => this.p.copy.current(now),
    );
    return [...shared, ...(await this.pending()).filter((e) => e.revokedAt === null && e.expiresAt > now)];
  }

  async between(from: number, to: number): Promise<ExceptionRecord[]> {
    const inRange = (e: ExceptionRecord) => e.createdAt < to && (e.expiresAt > from || e.createdAt >= from);
    const shared = await this.orCopy(
      () => this.p.remote.between(from, to),
      () => this.p.copy.all().filter(inRange).reverse(),
    );
    return [...shared, ...(await this.pending()).filter(inRange)].sort((a, b) => a.createdAt - b.createdAt);
  }

  changesSince(since: number): Promise<{ last: number; changed: ExceptionRecord[] }> {
    return this.p.remote.changesSince(since);
  }

  async auditEntries(f: AuditFilter): Promise<AuditEntry[]> {
    const pending = new Set((await this.pending()).map((e) => `exception ${-e.id}`));
    const local = (await this.p.local.auditEntries(f))
      .filter((a) => pending.has(a.target))
      .map((a) => ({ ...a, target: `exception -${a.target.slice('exception '.length)}` }));
    const shared = await this.orCopy(
      () => this.p.remote.auditEntries(f),
      () => [],
    );
    return [...local, ...shared].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  }

  subscribe(listener: ExceptionsListener, onError: (e: Error) => void = () => {}): () => void {
    const { remote, local, copy } = this.p;
    let migrated = false;
    // Deliveries run one after another, each reading the copy and this box's own exceptions at its
    // turn: a delivery started before a change can never land after one started after it.
    let chain: Promise<void> = Promise.resolve();
    const deliver = (): Promise<void> =>
      (chain = chain.then(async () => {
        const pending = (await this.pending()).filter((e) => e.revokedAt === null);
        listener([...copy.current(Date.now()), ...pending]);
      }));
    const feed = remote.feed(
      async () => {
        if (!migrated) {
          await this.p.migrate();
          migrated = true;
        }
        const pushedAny = await this.pushLocal();
        // A store created anew (not restored from a dump) numbers its changes from 1 again: the copy
        // of another store is replaced whole, never merged by number.
        const epoch = await remote.storeEpoch();
        const same = copy.storeEpoch() === epoch;
        const since = same ? copy.lastChange() : 0;
        const changes = await remote.changesSince(since);
        const changed = !same || changes.changed.length > 0 || changes.last !== since;
        if (!same) copy.replace(changes.changed, changes.last, epoch);
        else if (changed) copy.apply(changes.changed, changes.last);
        await remote.reportApplied(changes.last, this.p.version);
        if (changed || pushedAny) await deliver();
      },
      { onError },
    );
    // This box's own exceptions (--local, approvals here): enforced at once, pushed when possible.
    const stopLocal = local.subscribe(() => {
      void deliver().catch((e: Error) => onError(e));
      feed.poke();
    }, onError);
    feed.start();
    return () => {
      stopLocal();
      void feed.stop();
    };
  }

  /** This box's exceptions not yet in the shared store, newest last, with their pending ids. */
  private async pending(): Promise<ExceptionRecord[]> {
    const pushed = this.p.copy.pushed();
    return (await this.p.local.all())
      .filter((e) => !pushed.has(e.id))
      .map((e) => ({ ...e, id: pendingId(e.id) }))
      .reverse();
  }

  /** Pushes this box's own exceptions (and their later revocations) to the shared store; true if any. */
  private async pushLocal(): Promise<boolean> {
    const { remote, local, copy, node } = this.p;
    const pushed = copy.pushed();
    let any = false;
    for (const e of (await local.all()).reverse()) {
      const done = pushed.get(e.id);
      if (!done) {
        const shared = await remote.push(e, await local.auditOf(e.id), `${node}/${e.id}/${e.createdAt}`);
        copy.markPushed(e.id, shared.id, shared.revokedAt !== null);
        any = true;
      } else if (e.revokedAt !== null && !done.revokePushed) {
        const audit = (await local.auditOf(e.id)).find((a) => a.action === 'revoked');
        try {
          await remote.revoke(done.sharedId, e.revokeReason ?? '', {
            actor: audit?.actor ?? e.revokedBy ?? 'unknown',
            ip: audit?.ip ?? 'cli',
            at: e.revokedAt,
            recordedAs: e.revokedBy ?? 'unknown',
          });
        } catch (err) {
          if (!(err instanceof ExceptionChangeError)) throw err; // already revoked in the shared store
        }
        copy.markPushed(e.id, done.sharedId, true);
        any = true;
      }
    }
    return any;
  }

  /** The shared store's answer, or this box's copy while it cannot be reached. */
  private async orCopy<T>(fromShared: () => Promise<T>, fromCopy: () => T): Promise<T> {
    try {
      return await fromShared();
    } catch (e) {
      if (!(e instanceof SharedUnavailableError)) throw e;
      try {
        return fromCopy();
      } catch {
        throw e;
      }
    }
  }
}
