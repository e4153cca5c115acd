// Watches that ask the API server for metadata only (PartialObjectMetadata, as client-go's metadata
// informers do). The revision watcher needs to know that a ConfigMap or Secret a target reads has
// changed, never what it holds: with these, no Secret value arrives in the worker through a watch or
// stays in its informer cache, and a large ConfigMap costs its metadata only. The values of the few
// configs a rollout does read are fetched by name, when it reads them (activities/kubernetes.ts).
import type * as k8s from '@kubernetes/client-node';

const meta = 'g=meta.k8s.io;v=v1';
/** What a list asks for: the items' metadata, with plain JSON as the fallback of older servers. */
export const metadataListAccept = `application/json;as=PartialObjectMetadataList;${meta},application/json`;
/** What a watch asks for: each event's object as metadata. */
export const metadataWatchAccept = `application/json;as=PartialObjectMetadata;${meta},application/json`;

/**
 * A view of `config` whose every request (a generated client's list, a `Watch`) asks for metadata
 * only. It shares everything else with `config` (credentials, the kept connection) by delegation, so a
 * rotated certificate or token is seen by both.
 */
export function metadataOnly(config: k8s.KubeConfig): k8s.KubeConfig {
  const view = Object.create(config) as k8s.KubeConfig;
  view.applySecurityAuthentication = async (context: k8s.RequestContext): Promise<void> => {
    await config.applySecurityAuthentication(context);
    const watching = new URL(context.getUrl()).searchParams.get('watch') === 'true';
    context.setHeaderParam('Accept', watching ? metadataWatchAccept : metadataListAccept);
  };
  return view;
}
