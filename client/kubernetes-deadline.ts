// A deadline for one Kubernetes API call made with @kubernetes/client-node: its generated clients take
// per-call options with middleware, and the request's AbortSignal ends the fetch and the body read, so
// an API server that accepts the connection and never answers cannot hang the caller.
import * as k8s from '@kubernetes/client-node';

/** Per-call options that abort the request after `timeoutMs`; `options` (e.g. a patch type) are kept. */
export function requestDeadline(
  timeoutMs: number,
  options?: k8s.ConfigurationOptions,
): k8s.ConfigurationOptions {
  const deadline: k8s.ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      return new k8s.Observable(Promise.resolve(request));
    },
    post: (response) => new k8s.Observable(Promise.resolve(response)),
  };
  return {
    ...options,
    middleware: [...(options?.middleware ?? []), deadline],
    middlewareMergeStrategy: 'append',
  };
}

/** Whether a call failed because its deadline passed. */
export function isDeadlineExceeded(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))
  );
}
