// What counts as a new revision of the target, as Flagger decides it: the pod template, plus the
// contents of the ConfigMaps and Secrets the pods read. Replicas, strategy and the Deployment's own
// metadata are outside `spec.template`, so scaling or tuning a rollout never starts one.
//
// This runs inside Temporal workflow code (the workflow compares revisions to decide whether a
// change restarts the analysis), where `node:crypto` is not available and every result must be the
// same on replay. So the hash is a small pure FNV-1a over the UTF-8 bytes of canonical JSON: not
// cryptographic, which it need not be (it detects change, it does not authenticate), and stable
// across Node versions and machines because it depends on nothing but the input.

/** Only the parts of a pod spec that can reference a ConfigMap or Secret. */
export interface PodSpecConfigRefs {
  volumes?: readonly VolumeRefs[];
  containers?: readonly ContainerRefs[];
  initContainers?: readonly ContainerRefs[];
}

interface NamedRef {
  name?: string;
}

interface VolumeRefs {
  configMap?: NamedRef;
  secret?: { secretName?: string };
  projected?: { sources?: readonly { configMap?: NamedRef; secret?: NamedRef }[] };
}

interface ContainerRefs {
  env?: readonly { valueFrom?: { configMapKeyRef?: NamedRef; secretKeyRef?: NamedRef } }[];
  envFrom?: readonly { configMapRef?: NamedRef; secretRef?: NamedRef }[];
}

export interface ConfigReferences {
  configMaps: string[];
  secrets: string[];
}

/**
 * The ConfigMaps and Secrets a pod spec reads: volumes (including projected sources), env
 * `valueFrom` key refs and `envFrom`, of containers and init containers. Sorted, without duplicates.
 * (Flagger scans only containers; init containers read configuration too, so a change there is
 * a new revision in Cutover.) Image pull secrets are not configuration and are not listed.
 */
export function referencedConfigs(podSpec: PodSpecConfigRefs | undefined): ConfigReferences {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const add = (set: Set<string>, name: string | undefined): void => {
    if (name) set.add(name);
  };
  for (const volume of podSpec?.volumes ?? []) {
    add(configMaps, volume.configMap?.name);
    add(secrets, volume.secret?.secretName);
    for (const source of volume.projected?.sources ?? []) {
      add(configMaps, source.configMap?.name);
      add(secrets, source.secret?.name);
    }
  }
  for (const container of [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]) {
    for (const env of container.env ?? []) {
      add(configMaps, env.valueFrom?.configMapKeyRef?.name);
      add(secrets, env.valueFrom?.secretKeyRef?.name);
    }
    for (const envFrom of container.envFrom ?? []) {
      add(configMaps, envFrom.configMapRef?.name);
      add(secrets, envFrom.secretRef?.name);
    }
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}

/** A ConfigMap or Secret as the revision needs it (fetched by an activity). */
export interface TrackedConfigSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  data?: Readonly<Record<string, string>>;
  binaryData?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  /** Secret type; registry and service-account token Secrets are not configuration (as in Flagger). */
  type?: string;
}

export const configTrackingAnnotation = 'flagger.app/config-tracking';

// Flagger tracks only these Secret types; the others (dockerconfigjson, service-account-token, …)
// belong to the platform, not to the app's configuration.
const trackedSecretTypes: ReadonlySet<string> = new Set([
  'Opaque',
  'kubernetes.io/basic-auth',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
]);

function isTracked(config: TrackedConfigSource): boolean {
  if (config.annotations?.[configTrackingAnnotation] === 'disabled') return false;
  return config.kind === 'ConfigMap' || config.type === undefined || trackedSecretTypes.has(config.type);
}

/** The status key Flagger uses in `trackedConfigs`: `configmap/<name>` or `secret/<name>`. */
export function trackedConfigKey(kind: TrackedConfigSource['kind'], name: string): string {
  return `${kind === 'ConfigMap' ? 'configmap' : 'secret'}/${name}`;
}

/**
 * `status.trackedConfigs`: checksum of each tracked config the template references, by key.
 * Configs that are passed in but not referenced, or annotated `config-tracking: disabled`, are left out,
 * so the caller may hand over more than needed without changing the result.
 */
export function trackedConfigs(
  podSpec: PodSpecConfigRefs | undefined,
  configs: readonly TrackedConfigSource[],
): Record<string, string> {
  const refs = referencedConfigs(podSpec);
  const wanted = new Set([
    ...refs.configMaps.map((name) => trackedConfigKey('ConfigMap', name)),
    ...refs.secrets.map((name) => trackedConfigKey('Secret', name)),
  ]);
  const entries: [string, string][] = [];
  for (const config of configs) {
    const key = trackedConfigKey(config.kind, config.name);
    if (!wanted.has(key) || !isTracked(config)) continue;
    entries.push([
      key,
      hashHex(canonicalJson({ data: config.data ?? {}, binaryData: config.binaryData ?? {} })),
    ]);
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/** The part of a Deployment's `spec.template` the revision reads; everything in it is hashed. */
export interface PodTemplateLike {
  spec?: PodSpecConfigRefs;
}

/**
 * The revision of a target: a 16-hex-digit hash of its pod template (canonical JSON) and of the
 * checksums of the tracked configs it references. Equal inputs give equal revisions everywhere.
 * Pass the template as the API serves it (plain JSON); `undefined` fields are dropped as JSON does.
 */
export function computeRevision(template: PodTemplateLike, configs: readonly TrackedConfigSource[]): string {
  return hashHex(canonicalJson({ template, configs: trackedConfigs(template.spec, configs) }));
}

/**
 * JSON with object keys sorted, so that the same object always gives the same text whatever order
 * its keys were built in. Follows JSON.stringify otherwise: `toJSON` is honoured, `undefined` and
 * functions are dropped from objects and become `null` in arrays.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return sortKeys(withToJson.toJSON());
    if (Array.isArray(value)) return value.map(sortKeys);
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** FNV-1a 64-bit over the UTF-8 encoding of `text`, as 16 lowercase hex digits. */
export function hashHex(text: string): string {
  let hash = FNV_OFFSET_BASIS;
  const mix = (byte: number): void => {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * FNV_PRIME);
  };
  // UTF-8 by hand: TextEncoder is not guaranteed in the workflow sandbox, and this is short.
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) {
      mix(code);
    } else if (code < 0x800) {
      mix(0xc0 | (code >> 6));
      mix(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      mix(0xe0 | (code >> 12));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    } else {
      mix(0xf0 | (code >> 18));
      mix(0x80 | ((code >> 12) & 0x3f));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    }
  }
  return hash.toString(16).padStart(16, '0');
}
