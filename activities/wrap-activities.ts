// Applies one wrapper (liveness heartbeats, retry reports) to every function of a set of activities,
// except those named: the same object shape out, so the worker registers it as it would the original.
export type AsyncFunction = (...args: never[]) => Promise<unknown>;

export function wrapActivities<A extends Record<string, unknown>>(
  activities: A,
  except: readonly (keyof A)[],
  wrap: (fn: AsyncFunction) => AsyncFunction,
): A {
  const skip = new Set<keyof A>(except);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(activities)) {
    out[name] = typeof value === 'function' && !skip.has(name) ? wrap(value as AsyncFunction) : value;
  }
  return out as A;
}
