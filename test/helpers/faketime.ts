/**
 * A fake clock for real processes (the daemon, with its threads, and CLI runs): libfaketime
 * (Debian's faketime package) preloaded, reading its offset from the real time from a file. Every
 * process given the same environment agrees on the time, and it runs at the real rate; `set` moves
 * it (forward) for all of them, so a test can act in the middle of a lesson and then go to a few
 * seconds before its end, without changing the daemon's code.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { needTool } from './tools.js';

export interface FakeClock {
  /** Environment for spawned processes (daemon, CLI). */
  env: Record<string, string>;
  /** The fake time now, as those processes see it. */
  now(): number;
  /**
   * Makes it `at` now. A new process sees it at once; a running one within PICKUP_MS (libfaketime
   * reads the file at most once a second), so poll for what should change rather than assume.
   */
  set(at: number): void;
}

/** How long a running process may go on with the previous offset after `set`. */
export const PICKUP_MS = 1000;

/** The preloadable library (its multi-threaded build: the daemon runs worker threads). */
function library(): string {
  needTool('faketime');
  for (const dir of ['/usr/lib', '/usr/lib64', ...readdirSync('/usr/lib').map((d) => path.join('/usr/lib', d))]) {
    const lib = path.join(dir, 'faketime', 'libfaketimeMT.so.1');
    if (existsSync(lib)) return lib;
  }
  throw new Error('libfaketimeMT.so.1 not found (Debian package libfaketime, installed with faketime)');
}

/** A clock that reads `at` now and runs on from there. */
export function fakeClockAt(at: number): FakeClock {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'webfilter-clock-')), 'faketime');
  let offset = 0;
  const set = (t: number) => {
    offset = t - Date.now();
    // Written whole, then renamed: a process never reads half an offset.
    writeFileSync(`${file}.new`, `${offset >= 0 ? '+' : '-'}${(Math.abs(offset) / 1000).toFixed(3)}\n`);
    renameSync(`${file}.new`, file);
  };
  set(at);
  return {
    env: {
      LD_PRELOAD: library(),
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_CACHE_DURATION: String(PICKUP_MS / 1000),
      // Timers (libuv's monotonic clock) stay real: only the wall clock moves.
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
    now: () => Date.now() + offset,
    set,
  };
}
