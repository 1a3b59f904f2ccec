import type { Config } from '../../config/schema.js';
import type { Detector } from './detector.js';
import { PersistentAttemptsDetector } from './persistent.js';
import { TunnelDetector } from './tunnel.js';

/** The `circumvention:` config section, as the writer thread receives it. */
export type CircumventionSettings = Config['circumvention'];

/** Every detector, built from its config section; null when it is turned off. One line per detector. */
const DETECTORS: ((c: CircumventionSettings) => Detector | null)[] = [
  (c) => (c.tunnel.enabled ? new TunnelDetector(c.tunnel) : null),
  (c) => (c.persistent_attempts.enabled ? new PersistentAttemptsDetector(c.persistent_attempts) : null),
];

/** The detectors the config turns on. */
export function buildDetectors(c: CircumventionSettings): Detector[] {
  return DETECTORS.map((make) => make(c)).filter((d): d is Detector => d !== null);
}
