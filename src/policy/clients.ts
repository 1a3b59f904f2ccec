import { parseCidr } from '../net/cidr.js';
import { PrefixIndex } from '../net/prefix-index.js';
import type { Config } from '../config/schema.js';
import type { CompiledGroup } from './policy.js';

/** Who a client is, as far as policy cares. */
export interface ClientInfo {
  /** Inside `server.allowed_clients`: may use this resolver at all. */
  readonly allowed: boolean;
  /** Its group (longest matching prefix across groups), or the default group. */
  readonly group: CompiledGroup;
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

  constructor(
    config: Config,
    groups: ReadonlyMap<string, CompiledGroup>,
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
      };
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(address, info);
    }
    return info;
  }
}
