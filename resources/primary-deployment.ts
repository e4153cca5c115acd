// The primary Deployment (`<target>-primary`): the target's pod template with the selector label
// rewritten to `<value>-primary` and the tracked ConfigMaps/Secrets renamed to their `-primary`
// copies, so that the primary keeps running the promoted revision while the target changes.
import type { V1Deployment, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { primaryConfigName, primaryLabelValue, primaryName } from '../canary/naming.ts';
import { copyableAnnotations, generatedMetadata, type CanaryRef } from './owner.ts';
import { selectorLabel, type SelectorLabel } from './selector-label.ts';

/** The tracked configs whose references are renamed to `<name>-primary` (see `trackedConfigNames`). */
export interface TrackedConfigNames {
  configMaps: readonly string[];
  secrets: readonly string[];
}

/** From `status.trackedConfigs` keys (`configmap/<name>`, `secret/<name>`) to names by kind. */
export function trackedConfigNames(tracked: Readonly<Record<string, string>>): TrackedConfigNames {
  const configMaps: string[] = [];
  const secrets: string[] = [];
  for (const key of Object.keys(tracked)) {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (kind === 'configmap') configMaps.push(name);
    else if (kind === 'secret') secrets.push(name);
  }
  return { configMaps: configMaps.sort(), secrets: secrets.sort() };
}

/** A deep copy, as plain JSON (what the API serves; `undefined` fields dropped). */
function plainCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * `podSpec` with every reference to a tracked ConfigMap or Secret (volumes, projected sources, env
 * key refs, envFrom; containers and init containers) pointing at its `-primary` copy. Untracked
 * references (config tracking disabled, image pull secrets) are left alone.
 */
export function renameConfigReferences(podSpec: V1PodSpec, tracked: TrackedConfigNames): V1PodSpec {
  const spec = plainCopy(podSpec);
  const configMaps = new Set(tracked.configMaps);
  const secrets = new Set(tracked.secrets);
  const cm = (name: string | undefined): string | undefined =>
    name !== undefined && configMaps.has(name) ? primaryConfigName(name) : name;
  const secret = (name: string | undefined): string | undefined =>
    name !== undefined && secrets.has(name) ? primaryConfigName(name) : name;

  for (const volume of spec.volumes ?? []) {
    if (volume.configMap) volume.configMap.name = cm(volume.configMap.name);
    if (volume.secret) volume.secret.secretName = secret(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap) source.configMap.name = cm(source.configMap.name);
      if (source.secret) source.secret.name = secret(source.secret.name);
    }
  }
  for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
    for (const env of container.env ?? []) {
      const ref = env.valueFrom;
      if (ref?.configMapKeyRef) ref.configMapKeyRef.name = cm(ref.configMapKeyRef.name) ?? '';
      if (ref?.secretKeyRef) ref.secretKeyRef.name = secret(ref.secretKeyRef.name) ?? '';
    }
    for (const envFrom of container.envFrom ?? []) {
      if (envFrom.configMapRef) envFrom.configMapRef.name = cm(envFrom.configMapRef.name);
      if (envFrom.secretRef) envFrom.secretRef.name = secret(envFrom.secretRef.name);
    }
  }
  return spec;
}

function withPrimaryLabel(
  labels: Readonly<Record<string, string>> | undefined,
  label: SelectorLabel,
): Record<string, string> {
  return { ...labels, [label.key]: primaryLabelValue(label.value) };
}

/** The primary's pod template: the target's, with the selector label and config references rewritten. */
export function primaryPodTemplate(target: V1Deployment, tracked: TrackedConfigNames): V1PodTemplateSpec {
  const label = selectorLabel(target);
  const template = plainCopy(target.spec?.template ?? {});
  const podSpec = template.spec ?? { containers: [] };
  return {
    ...template,
    metadata: {
      ...template.metadata,
      labels: withPrimaryLabel(template.metadata?.labels, label),
    },
    spec: renameConfigReferences(podSpec, tracked),
  };
}

export interface PrimaryDeploymentInput {
  canary: CanaryRef;
  /** The target as read from the API. */
  target: V1Deployment;
  tracked: TrackedConfigNames;
}

/**
 * The whole primary Deployment, as created at initialization: pod template as above; selector with
 * the label rewritten; strategy, minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds
 * copied; replicas = the target's (or 1 when it has none or is scaled to zero).
 */
export function primaryDeployment(input: PrimaryDeploymentInput): V1Deployment {
  const { target, canary } = input;
  const targetName = target.metadata?.name ?? '';
  const label = selectorLabel(target);
  const spec = target.spec;
  const selector = plainCopy(spec?.selector ?? {});
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: generatedMetadata(
      primaryName(targetName),
      canary,
      withPrimaryLabel(target.metadata?.labels, label),
      copyableAnnotations(target.metadata?.annotations),
    ),
    spec: {
      replicas: spec?.replicas ? spec.replicas : 1,
      ...primaryRolloutSettings(target),
      selector: { ...selector, matchLabels: withPrimaryLabel(selector.matchLabels, label) },
      template: primaryPodTemplate(target, input.tracked),
    },
  };
}

/** The rollout settings the primary takes from the target, at creation and at every promotion. */
export function primaryRolloutSettings(
  target: V1Deployment,
): Pick<
  NonNullable<V1Deployment['spec']>,
  'strategy' | 'minReadySeconds' | 'revisionHistoryLimit' | 'progressDeadlineSeconds'
> {
  const spec = target.spec;
  return {
    ...(spec?.strategy ? { strategy: plainCopy(spec.strategy) } : {}),
    minReadySeconds: spec?.minReadySeconds ?? 0,
    ...(spec?.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: spec.revisionHistoryLimit } : {}),
    ...(spec?.progressDeadlineSeconds !== undefined
      ? { progressDeadlineSeconds: spec.progressDeadlineSeconds }
      : {}),
  };
}

/** One operation of an RFC 6902 JSON Patch. */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

export interface PromotionPatchInput {
  target: V1Deployment;
  tracked: TrackedConfigNames;
  /** Set the primary's replicas too (when no HPA owns them). */
  replicas?: number;
}

/**
 * The promotion as a JSON Patch of the primary: `add` replaces each value wholesale, so a field
 * removed from the target's template is removed from the primary's too (a merge patch would keep it),
 * and nothing else of the primary (its selector, its HPA-managed replicas, others' labels) is touched.
 */
export function promotionPatch(input: PromotionPatchInput): JsonPatchOperation[] {
  const settings = primaryRolloutSettings(input.target);
  const ops: JsonPatchOperation[] = [
    { op: 'add', path: '/spec/template', value: primaryPodTemplate(input.target, input.tracked) },
    { op: 'add', path: '/spec/minReadySeconds', value: settings.minReadySeconds },
  ];
  if (settings.strategy) ops.push({ op: 'add', path: '/spec/strategy', value: settings.strategy });
  if (settings.revisionHistoryLimit !== undefined) {
    ops.push({ op: 'add', path: '/spec/revisionHistoryLimit', value: settings.revisionHistoryLimit });
  }
  if (settings.progressDeadlineSeconds !== undefined) {
    ops.push({ op: 'add', path: '/spec/progressDeadlineSeconds', value: settings.progressDeadlineSeconds });
  }
  if (input.replicas !== undefined) ops.push({ op: 'add', path: '/spec/replicas', value: input.replicas });
  return ops;
}
