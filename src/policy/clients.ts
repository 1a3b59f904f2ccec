import { parseCidr } from '../net/cidr.js';
import { PrefixIndex } from '../net/prefix-index.js';
import type { Config } from '../config/schema.js';
import type { Identity } from '../identity/identity-index.js';
import type { CompiledGroup } from './policy.js';

/** Who a client is, as far as policy cares. */
export interface ClientInfo {
  /** Inside `server.allowed_clients`: may use this resolver at all. */
  readonly allowed: boolean;
  /** Its user's group when that is a configured group, else its address's group (longest matching prefix), else default. */
  readonly group: CompiledGroup;
  /** The person at the address (RADIUS accounting or the identity feed), or null. */
  readonly user: string | null;
  /** Whether `group` came from the user rather than the address. */
  readonly userGroup: boolean;
}

/** Bound on remembered addresses; a school has a few thousand devices, so this rarely fills. */
const MEMO_LIMIT = 50_000;

/**
 * Maps a client address to its ClientInfo through two prefix indexes compiled at load
 * (allowed networks, group networks), remembering recent answers so a repeat client costs one Map probe.
 */
export class ClientDirectory {
  private readonly allowed = new PrefixIndex<true>();
  private readonly groupIndex = new PrefixIndex<CompiledGroup>();
  private readonly memo = new Map<string, ClientInfo>();
  /** Per identity, the ClientInfo last derived from it and the address's own info it was derived from. */
  private readonly derived = new WeakMap<Identity, { base: ClientInfo; info: ClientInfo }>();

  constructor(
    config: Config,
    private readonly groups: ReadonlyMap<string, CompiledGroup>,
    private readonly defaultGroup: CompiledGroup,
  ) {
    for (const c of config.server.allowed_clients) this.allowed.add(parseCidr(c), true);
    for (const [name, g] of Object.entries(config.groups)) {
      for (const c of g.clients) this.groupIndex.add(parseCidr(c), groups.get(name)!);
    }
  }

  /** The client's ACL verdict and group. `address` is as the socket reports it. */
  resolve(address: string): ClientInfo {
    let info = this.memo.get(address);
    if (info === undefined) {
      info = {
        allowed: this.allowed.lookup(address) === true,
        group: this.groupIndex.lookup(address) ?? this.defaultGroup,
        user: null,
        userGroup: false,
      };
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(address, info);
    }
    return info;
  }

  /**
   * The address's info with its user: the user's group replaces the address's when it is a
   * configured group (staff and students on one SSID get their own rules). Derived once per
   * identity and kept, so a repeat query allocates nothing.
   */
  withIdentity(base: ClientInfo, id: Identity): ClientInfo {
    const d = this.derived.get(id);
    if (d !== undefined && d.base === base) return d.info;
    const userGroup = id.group === null ? undefined : this.groups.get(id.group);
    const info: ClientInfo = {
      allowed: base.allowed,
      group: userGroup ?? base.group,
      user: id.user,
      userGroup: userGroup !== undefined,
    };
    this.derived.set(id, { base, info });
    return info;
  }
}
