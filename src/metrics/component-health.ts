import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

/** The parts DNS never depends on: when one cannot run, the filter serves without it. */
export const COMPONENTS = ['console', 'metrics', 'evidence', 'shared'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** `starting`: not yet up (the first attempt is under way); `off`: turned off in the config. */
export type ComponentState = 'up' | 'down' | 'starting' | 'off';

export interface ComponentStatus {
  state: ComponentState;
  /** Why it is down (the error), or where it serves. */
  detail: string;
  /** Since when (epoch ms). */
  since: number;
}

/**
 * The optional parts' health, as the daemon reports it: every change is logged (a part going down
 * as an error that says DNS carries on), exported as `webfilter_component_up{component}` (1 up, 0
 * down or starting; no series for a part turned off) and shown in /readyz and `webfilter status`.
 */
export class ComponentHealth {
  private readonly states = new Map<ComponentName, ComponentStatus>();
  private readonly listeners = new Set<(states: Record<string, ComponentStatus>) => void>();

  constructor(
    registry: Registry,
    private readonly log: Logger,
  ) {
    const states = this.states;
    new Gauge({
      name: 'webfilter_component_up',
      help: '1 when an optional part (console, metrics, evidence store, shared store) is working, 0 when it is down or starting; DNS serves either way',
      labelNames: ['component'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [name, s] of states) if (s.state !== 'off') this.labels(name).set(s.state === 'up' ? 1 : 0);
      },
    });
  }

  /** Records a part's state; logs when it changes. */
  report(name: ComponentName, state: ComponentState, detail = ''): void {
    const before = this.states.get(name);
    if (before?.state === state && before.detail === detail) return;
    this.states.set(name, { state, detail, since: Date.now() });
    const states = this.snapshot();
    for (const l of this.listeners) l(states);
    if (state === 'down') {
      this.log.error({ component: name, error: detail }, `${name} is down: DNS carries on without it; retrying`);
    } else if (state === 'up' && before?.state === 'down') {
      this.log.info({ component: name, detail }, `${name} is up again`);
    }
  }

  /** Calls `listener` with every part's state after each change (the heartbeat keeps them for `webfilter status`). */
  subscribe(listener: (states: Record<string, ComponentStatus>) => void): () => void {
    this.listeners.add(listener);
    listener(this.snapshot());
    return () => this.listeners.delete(listener);
  }

  /** Every part's state, for /readyz and `webfilter status`. */
  snapshot(): Record<string, ComponentStatus> {
    return Object.fromEntries([...this.states]);
  }

  /** "console: console.listen: listen EADDRINUSE …" for each part that is down. */
  degraded(): string[] {
    return [...this.states].filter(([, s]) => s.state === 'down').map(([name, s]) => `${name}: ${s.detail}`);
  }
}
