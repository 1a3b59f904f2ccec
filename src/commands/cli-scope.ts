import type { LoadedConfig } from '../config/load.js';
import type { SiteScope } from '../storage/scope.js';
import { SharedUnavailableError } from '../storage/shared-errors.js';
import type { Storage } from '../storage/storage.js';

/**
 * The scope of the console account named like the OS user running a command (the real user behind
 * sudo), on filters sharing a store: an ICT technician scoped to other sites cannot change this
 * site's exceptions or requests from its CLI either. No such account (root, a service account):
 * undefined, unlimited, as on a single box. `offline`: an unreachable store gives undefined, for a
 * change that then either fails on that store with its own message (exception add/revoke) or stays on
 * this box (`--local`, a request approved during an outage). The CLI runs as root's delegate on the
 * filter itself, so this keeps a scoped technician from a mistake; it is not a boundary against root.
 */
export async function cliAccountScope(
  store: Storage,
  loaded: LoadedConfig,
  name: string,
  offline = false,
): Promise<SiteScope | undefined> {
  if (!loaded.config.shared) return undefined;
  try {
    return (await store.accounts.findUser(name))?.scope;
  } catch (e) {
    if (offline && e instanceof SharedUnavailableError) return undefined;
    throw e;
  }
}
