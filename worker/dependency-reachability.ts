// Whether this worker can reach what every rollout step needs (Temporal, the Kubernetes API server),
// and saying so where people look when it cannot for long. While Temporal is away no rollout step runs
// (no activity, no timer), and while the API server is away every step waits on it, so nothing in the
// rollouts can report it: the worker does, from outside them. It asks the dependency every few
// seconds (with a deadline); after `unreachableAfterMs` of failures it logs one error, /readyz says
// `<name>: unreachable since …`, and each Canary it watches that is mid-rollout gets a `Stalled`
// condition (reason e.g. `TemporalUnreachable`) and a Warning event, when the API server takes them.
// When it answers again: one log line, and on the Canaries mid-rollout `Stalled` False (`Recovered`)
// with a Normal event saying what was unreachable and for how long the rollout was held.
import type * as k8s from '@kubernetes/client-node';
import { apiGroup } from '../canary/spec.ts';
import { isCanaryPhase, isRolloutInProgress } from '../canary/status.ts';
import type { CanaryRef } from '../resources/owner.ts';
import type { ReportProgressInput, ReportProgressResult } from '../activities/canary-status.ts';
import { stalledConditionType } from '../activities/retry-reports.ts';
import { redactText } from '../canary/redact.ts';
import type { Logger } from './logger.ts';

export interface DependencyReachabilityOptions {
  /** In the messages: `Temporal`, `the Kubernetes API server`. */
  name: string;
  /** The `Stalled` reason while unreachable, e.g. `TemporalUnreachable`. */
  reason: string;
  /** One question to it; a probe still unanswered when the next is due counts as a failure. */
  probe: () => Promise<void>;
  /** Where it is, for the messages. */
  address: string;
  /** A probe unanswered after this fails (default 3 s). */
  probeTimeoutMs?: number;
  log: Logger;
  /** The Canaries to tell: those this worker watches. */
  listCanaries: () => Promise<CanaryObjectLike[]>;
  reportProgress: (input: ReportProgressInput) => Promise<ReportProgressResult>;
  everyMs?: number;
  /** Failures for this long make it unreachable (default 6 s: a blip is not an outage). */
  unreachableAfterMs?: number;
  now?: () => number;
}

export interface CanaryObjectLike {
  metadata?: { name?: string; namespace?: string; uid?: string };
  status?: { phase?: string; lastTransitionTime?: string };
}

export interface ReachabilityState {
  reachable: boolean;
  /** When the failures began (epoch ms), while unreachable or failing. */
  failingSince?: number;
  lastError?: string;
}

export class DependencyReachability {
  private readonly everyMs: number;
  private readonly unreachableAfterMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private unreachable = false;
  /** A frozen API server must not hold the checks: a list or a write unanswered by then is dropped. */
  private readonly writeTimeoutMs = 5_000;
  private pending: Promise<void> | undefined;
  /** The Canaries told about this outage, to tell them when it ends. */
  private told: CanaryRef[] = [];

  private readonly options: DependencyReachabilityOptions;

  constructor(options: DependencyReachabilityOptions) {
    this.options = options;
    this.everyMs = options.everyMs ?? 2_000;
    this.unreachableAfterMs = options.unreachableAfterMs ?? 6_000;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const tick = (): void => {
      this.running = this.check().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.everyMs);
      });
    };
    this.timer = setTimeout(tick, this.everyMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  state(): ReachabilityState {
    return {
      reachable: !this.unreachable,
      ...(this.failingSince === undefined ? {} : { failingSince: this.failingSince }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** For /readyz: `ok`, or since when and why not. */
  describe(): string {
    if (!this.unreachable) return 'ok';
    const since = new Date(this.failingSince ?? this.now()).toISOString();
    return `unreachable since ${since}: ${this.lastError ?? 'no answer'}`;
  }

  /** One probe and what follows from it; public for tests, which drive the clock. */
  async check(): Promise<void> {
    try {
      await this.probeOnce();
    } catch (error) {
      // While a probe hangs, the error said stays the first one (a timeout), not "still waiting".
      if (!(error instanceof ProbePending) || this.lastError === undefined)
        this.lastError = redactText(error instanceof Error ? error.message : String(error)).slice(0, 300);
      this.failingSince ??= this.now();
      if (!this.unreachable && this.now() - this.failingSince >= this.unreachableAfterMs) {
        this.unreachable = true;
        this.options.log.error(`cannot reach ${this.options.name}: rollouts are held until it answers`, {
          address: this.options.address,
          since: new Date(this.failingSince).toISOString(),
          error: this.lastError,
        });
        await this.tellCanaries('down', this.failingSince);
      }
      return;
    }
    const since = this.failingSince;
    this.failingSince = undefined;
    const lastError = this.lastError;
    this.lastError = undefined;
    if (!this.unreachable || since === undefined) return;
    this.unreachable = false;
    const downMs = this.now() - since;
    this.options.log.info(`${this.options.name} answers again`, {
      address: this.options.address,
      unreachableForMs: downMs,
    });
    await this.tellCanaries('up', since, downMs, lastError);
  }

  /** The probe, bounded; one at a time (an unanswered one is a failure, not a second request). */
  private probeOnce(): Promise<void> {
    if (this.pending) return Promise.reject(new ProbePending('no answer to the previous probe yet'));
    const probe = this.options.probe().finally(() => {
      this.pending = undefined;
    });
    this.pending = probe;
    return within(probe, this.options.probeTimeoutMs ?? 3_000);
  }

  private async tellCanaries(change: 'down' | 'up', since: number, downMs = 0, lastError?: string) {
    const { name, address } = this.options;
    const sinceText = new Date(since).toISOString();
    let canaries: CanaryRef[];
    try {
      // At the end, the Canaries mid-rollout now (the API server may have refused the list before).
      canaries =
        change === 'up' && this.told.length > 0
          ? this.told
          : inProgress(
              await within(this.options.listCanaries(), this.writeTimeoutMs),
              change === 'up' ? since : undefined,
            );
    } catch (error) {
      this.options.log.warn(`could not list the Canaries to tell them about ${name}`, {
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    const message =
      change === 'down'
        ? `Cutover cannot reach ${name} at ${address} since ${sinceText} (${this.lastError ?? 'no answer'}): the rollout is held, and goes on where it was once ${name} answers`
        : `${capitalized(name)} at ${address} did not answer for ${Math.round(downMs / 1000)} s from ${sinceText}${lastError ? ` (${lastError})` : ''}: the rollout was held meanwhile and goes on`;
    const told: CanaryRef[] = [];
    for (const canary of canaries) {
      try {
        await within(
          this.options.reportProgress({
            canary,
            status: {
              condition: {
                type: stalledConditionType,
                status: change === 'down' ? 'True' : 'False',
                reason: change === 'down' ? this.options.reason : 'Recovered',
                message,
              },
            },
            events: [
              {
                key: `unreachable/${this.options.reason}/${since}/${change}`,
                type: change === 'down' ? 'Warning' : 'Normal',
                message,
              },
            ],
          }),
          this.writeTimeoutMs,
        );
        told.push(canary);
      } catch (error) {
        this.options.log.warn(`could not tell a Canary about ${name}`, {
          canary: `${canary.namespace}/${canary.name}`,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.told = change === 'down' ? told : [];
  }
}

/** The Canaries mid-rollout, and with `endedSince` those whose rollout ended since then too. */
function inProgress(canaries: CanaryObjectLike[], endedSince?: number): CanaryRef[] {
  const refs: CanaryRef[] = [];
  for (const c of canaries) {
    const { name, namespace, uid } = c.metadata ?? {};
    const phase = c.status?.phase;
    if (!name || !namespace || !uid || !isCanaryPhase(phase)) continue;
    const moved = Date.parse(c.status?.lastTransitionTime ?? '');
    const running = isRolloutInProgress(phase) || phase === 'Initializing';
    if (running || (endedSince !== undefined && moved >= endedSince - 1000))
      refs.push({ name, namespace, uid });
  }
  return refs;
}

/** The Canaries in `namespace` (all namespaces when absent), one bounded list call. */
export function canaryLister(
  custom: k8s.CustomObjectsApi,
  namespace: string | undefined,
): () => Promise<CanaryObjectLike[]> {
  return async () => {
    const list = {
      group: apiGroup,
      version: 'v1beta1',
      plural: 'canaries',
      limit: 500,
    };
    const result = (
      namespace
        ? await custom.listNamespacedCustomObject({ ...list, namespace })
        : await custom.listClusterCustomObject(list)
    ) as { items?: CanaryObjectLike[] };
    return result.items ?? [];
  };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

class ProbePending extends Error {}

/** `promise`, or a rejection after `ms` (the call itself is left to finish or fail on its own). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
