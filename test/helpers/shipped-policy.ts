/**
 * The repository's shipped configs and lists, loaded and compiled by the daemon's own loader and
 * policy compiler, for tests that hold the shipped lists to account (which names each category
 * blocks, and which it must not).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.js';
import { Policy, type CompiledGroup, type Decision } from '../../src/policy/policy.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SOCIAL_MEDIA_DIR = path.join(ROOT, 'blocklists/social-media');

export interface ShippedPolicy extends CompiledPolicy {
  loaded: LoadedConfig;
  /** A group that blocks exactly these categories (circumvention rules apply to every group anyway). */
  blocking(...categories: string[]): CompiledGroup;
  /** The decision for a name in a group that blocks only `category`. */
  decideIn(category: string, name: string): Decision;
}

/**
 * Loads and compiles a config file (an absolute path, or relative to the repository root) as the
 * daemon does. A config without upstreams gets a documentation-range one instead of this machine's.
 */
export async function loadShipped(configFile = 'config/webfilter.yaml'): Promise<ShippedPolicy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'webfilter-test-'));
  writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 192.0.2.53\n');
  const loaded = await loadConfig(path.resolve(ROOT, configFile), { resolvConf: path.join(dir, 'resolv.conf') }).finally(() =>
    rmSync(dir, { recursive: true }),
  );
  const compiled = await compilePolicy(loaded);
  const blocking = (...categories: string[]): CompiledGroup => ({
    name: `test-${categories.join('+')}`,
    blockMask: Policy.groupMask(compiled.policy.categories, categories),
  });
  return {
    ...compiled,
    loaded,
    blocking,
    decideIn: (category, name) => compiled.policy.decide(blocking(category), name),
  };
}

/** The category that blocks a name, or null when it is allowed. */
export function blockedBy(d: Decision): string | null {
  return d.action === 'block' ? d.category.name : null;
}
