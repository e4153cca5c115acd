// How the Kubernetes activities reach the API server: one KubeConfig, the typed API clients made from
// it, the two ways Cutover writes (server-side apply, precise patches) and one error boundary that
// tells Temporal which failures a retry can fix.
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { fieldManager } from '../canary/naming.ts';

export interface KubeClients {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  autoscaling: k8s.AutoscalingV2Api;
  custom: k8s.CustomObjectsApi;
  objects: k8s.KubernetesObjectApi;
}

export function kubeClients(config: k8s.KubeConfig): KubeClients {
  return {
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    autoscaling: config.makeApiClient(k8s.AutoscalingV2Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
  };
}

/** Request options that send a body as a JSON merge patch (RFC 7386). */
export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
/** Request options that send a body as a JSON Patch (RFC 6902). */
export const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

/** Server-side apply of a whole object as Cutover wants it, taking over fields others set. */
export async function serverSideApply<T extends k8s.KubernetesObject>(
  clients: KubeClients,
  object: T,
): Promise<T> {
  return kubernetesCall(`apply ${describe(object)}`, () =>
    clients.objects.patch(
      object,
      undefined,
      undefined,
      fieldManager,
      true,
      k8s.PatchStrategy.ServerSideApply,
    ),
  );
}

function describe(object: k8s.KubernetesObject): string {
  return `${object.kind ?? 'object'} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** A Secret's data as text: the API serves each value base64-encoded. */
export function secretText(secret: Pick<k8s.V1Secret, 'data'>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}

/** A typed object from the client as plain JSON, the way the API served it (Dates as RFC 3339 text). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

/** A create or a write refused with 409: the object exists already, or changed since it was read. */
export function isAlreadyThere(error: unknown): boolean {
  return statusCode(error) === 409 || (error instanceof Error && statusCode(error.cause) === 409);
}

export function isNotFound(error: unknown): boolean {
  if (statusCode(error) === 404) return true;
  return error instanceof ApplicationFailure && error.type === notFoundType;
}

export const notFoundType = 'KubernetesNotFound';
export const rejectedType = 'KubernetesRejected';

// A retry cannot fix these: the request itself is wrong, or the object is not there.
const permanentCodes: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 406, 413, 415, 422]);

function serverMessage(error: k8s.ApiException<unknown>): string {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return text.slice(0, 500);
    }
  }
  if (body !== null && typeof body === 'object' && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  return error.message.split('\n')[0] ?? '';
}

/**
 * Runs one API call. A request the server refuses for good (bad request, forbidden, not found,
 * invalid) becomes a non-retryable ApplicationFailure naming what was tried; anything else (a
 * conflict, throttling, a server error, no connection) is thrown as is, for Temporal to retry.
 */
export async function kubernetesCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Could not ${what}: ${reason}`, { cause: error });
    }
    const message = `Could not ${what}: the API server answered ${error.code}: ${serverMessage(error)}`;
    if (permanentCodes.has(error.code)) {
      throw ApplicationFailure.create({
        message,
        type: error.code === 404 ? notFoundType : rejectedType,
        nonRetryable: true,
        details: [{ status: error.code }],
      });
    }
    throw Object.assign(new Error(message, { cause: error }), { code: error.code });
  }
}

/** The object, or `undefined` when it does not exist. */
export async function readOptional<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await kubernetesCall(what, call);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
