// Malformed and hostile objects a user (or an attacker with write access to a namespace) may apply:
// Canaries, MetricTemplates, AlertProviders and RolloutPolicies with wrong types, missing targets,
// unknown providers, bad durations, conflicts and sizes that break limits. Each entry names the object
// that must carry the message (a status condition or a Warning event), so that its owner sees it.
import type * as k8s from '@kubernetes/client-node';
import { podinfoDeployment } from '../../support/cluster.ts';
import { canaryObject } from '../../support/canaries.ts';
import { rolloutPolicyApiVersion } from '../../../canary/rollout-policy.ts';

export type SubjectKind = 'Canary' | 'MetricTemplate' | 'AlertProvider' | 'RolloutPolicy';

export interface CorpusEntry {
  /** Unique; the subject's name. */
  name: string;
  fault: string;
  /** Applied in order; the last one is the subject unless `subject` says otherwise. */
  objects: k8s.KubernetesObject[];
  /**
   * The object that must get the message. With `or`, any one of those may get it instead: of two
   * Canaries created together on one target, a race decides which one the other refuses.
   */
  subject: { kind: SubjectKind; name: string; or?: string[] };
  /** A Deployment whose template changes once its Canary is initialized: a fault seen during a rollout. */
  release?: string;
}

type Spec = Record<string, unknown>;
type Analysis = Record<string, unknown>;

function deployment(name: string, namespace: string): k8s.KubernetesObject {
  return podinfoDeployment(name, namespace, 1) as k8s.KubernetesObject;
}

/** A valid tutorial Canary on its own target, changed by `change`. */
function canary(
  name: string,
  namespace: string,
  change: (spec: Spec, analysis: Analysis) => void = () => undefined,
  target = name,
): k8s.KubernetesObject {
  const object = canaryObject(target, namespace, { interval: '1s', iterations: 2 });
  (object.metadata as Spec).name = name;
  const spec = object.spec as Spec;
  change(spec, spec.analysis as Analysis);
  return object as k8s.KubernetesObject;
}

/** A namespaced object of one of the kinds Cutover reads, with the given spec. */
function object(
  apiVersion: string,
  kind: string,
  name: string,
  namespace: string,
  spec: Spec,
): k8s.KubernetesObject {
  return { apiVersion, kind, metadata: { name, namespace }, spec } as k8s.KubernetesObject;
}
const metricTemplate = (name: string, ns: string, spec: Spec): k8s.KubernetesObject =>
  object('flagger.app/v1beta1', 'MetricTemplate', name, ns, spec);
const alertProvider = (name: string, ns: string, spec: Spec): k8s.KubernetesObject =>
  object('flagger.app/v1beta1', 'AlertProvider', name, ns, spec);
const policy = (name: string, ns: string, spec: Spec): k8s.KubernetesObject =>
  object(rolloutPolicyApiVersion, 'RolloutPolicy', name, ns, spec);

const canarySubject = (name: string): CorpusEntry['subject'] => ({ kind: 'Canary', name });

/** Canaries whose fault the watcher can see at once (validation, a missing target). */
function specFaults(ns: string): CorpusEntry[] {
  const simple = (
    name: string,
    fault: string,
    change: (spec: Spec, analysis: Analysis) => void,
  ): CorpusEntry => ({
    name,
    fault,
    objects: [canary(name, ns, change, 'shared-target')],
    subject: canarySubject(name),
  });
  return [
    simple('provider-istio', 'spec.provider istio (a mesh provider)', (s) => (s.provider = 'istio')),
    simple('provider-empty', 'spec.provider empty', (s) => (s.provider = '')),
    simple('target-missing', 'no spec.targetRef', (s) => delete s.targetRef),
    simple(
      'target-statefulset',
      'targetRef.kind StatefulSet',
      (s) => ((s.targetRef as Spec).kind = 'StatefulSet'),
    ),
    simple(
      'target-old-api',
      'targetRef.apiVersion apps/v1beta1',
      (s) => ((s.targetRef as Spec).apiVersion = 'apps/v1beta1'),
    ),
    simple('target-name-empty', 'targetRef.name empty', (s) => ((s.targetRef as Spec).name = '')),
    simple(
      'target-not-found',
      'targetRef names no Deployment',
      (s) => ((s.targetRef as Spec).name = 'no-such-deployment'),
    ),
    simple('service-missing', 'no spec.service', (s) => delete s.service),
    simple('service-port-string', 'service.port a string', (s) => ((s.service as Spec).port = 'http')),
    simple('service-port-huge', 'service.port 70000', (s) => ((s.service as Spec).port = 70000)),
    simple(
      'target-port-object',
      'service.targetPort an object',
      (s) => ((s.service as Spec).targetPort = { a: 1 }),
    ),
    simple('analysis-missing', 'no spec.analysis', (s) => delete s.analysis),
    simple('interval-words', 'analysis.interval "soon"', (_s, a) => (a.interval = 'soon')),
    simple('interval-tiny', 'analysis.interval 1ms, below the floor', (_s, a) => (a.interval = '1ms')),
    simple('interval-negative', 'analysis.interval -10s', (_s, a) => (a.interval = '-10s')),
    simple('iterations-zero', 'analysis.iterations 0', (_s, a) => (a.iterations = 0)),
    simple('iterations-string', 'analysis.iterations "ten"', (_s, a) => (a.iterations = 'ten')),
    simple('threshold-zero', 'analysis.threshold 0', (_s, a) => (a.threshold = 0)),
    simple('canary-weights', 'stepWeight and maxWeight (canary mode)', (_s, a) => {
      a.stepWeight = 10;
      a.maxWeight = 50;
    }),
    simple(
      'ab-match',
      'analysis.match (A/B testing)',
      (_s, a) => (a.match = [{ headers: { user: { exact: 'x' } } }]),
    ),
    simple('metric-unknown-builtin', 'a metric neither builtin nor templateRef', (_s, a) => {
      a.metrics = [{ name: 'request-magic', thresholdRange: { min: 1 }, interval: '1m' }];
    }),
    simple('metric-range-inverted', 'thresholdRange min above max', (_s, a) => {
      a.metrics = [{ name: 'request-success-rate', thresholdRange: { min: 99, max: 1 }, interval: '1m' }];
    }),
    simple('metric-interval-bad', 'metric interval "abc"', (_s, a) => {
      a.metrics = [{ name: 'request-duration', thresholdRange: { max: 500 }, interval: 'abc' }];
    }),
    simple('metric-name-empty', 'a metric without a name', (_s, a) => {
      a.metrics = [{ name: '', thresholdRange: { max: 500 }, interval: '1m' }];
    }),
    simple('webhook-type-unknown', 'webhook type "sometimes"', (_s, a) => {
      a.webhooks = [{ name: 'w', type: 'sometimes', url: 'http://127.0.0.1:9/' }];
    }),
    simple('webhook-url-bad', 'webhook url "not a url"', (_s, a) => {
      a.webhooks = [{ name: 'w', type: 'rollout', url: 'not a url' }];
    }),
    simple('webhook-timeout-bad', 'webhook timeout "-5s"', (_s, a) => {
      a.webhooks = [{ name: 'w', type: 'rollout', url: 'http://127.0.0.1:9/', timeout: '-5s' }];
    }),
    simple('webhook-name-empty', 'a webhook without a name', (_s, a) => {
      a.webhooks = [{ name: '', type: 'rollout', url: 'http://127.0.0.1:9/' }];
    }),
    simple(
      'webhooks-object',
      'analysis.webhooks an object, not a list',
      (_s, a) => (a.webhooks = { name: 'w' }),
    ),
    simple(
      'alert-no-provider',
      'an alert without providerRef',
      (_s, a) => (a.alerts = [{ name: 'a', severity: 'info' }]),
    ),
    simple('alert-severity-bad', 'alert severity "loud"', (_s, a) => {
      a.alerts = [{ name: 'a', severity: 'loud', providerRef: { name: 'slack' } }];
    }),
    simple('autoscaler-vpa', 'autoscalerRef kind VerticalPodAutoscaler', (s) => {
      s.autoscalerRef = { apiVersion: 'autoscaling.k8s.io/v1', kind: 'VerticalPodAutoscaler', name: 'vpa' };
    }),
    simple('deadline-negative', 'progressDeadlineSeconds -1', (s) => (s.progressDeadlineSeconds = -1)),
    simple('metrics-server-ftp', 'metricsServer ftp://', (s) => (s.metricsServer = 'ftp://127.0.0.1/')),
    simple('suspend-string', 'suspend "yes"', (s) => (s.suspend = 'yes')),
    simple('ready-threshold-big', 'canaryReadyThreshold 150 %', (_s, a) => (a.canaryReadyThreshold = 150)),
  ];
}

/** Faults found when the Canary initializes or a rollout runs: each has its own target. */
function runtimeFaults(ns: string): CorpusEntry[] {
  const mt = (
    name: string,
    fault: string,
    templateSpec: Spec | undefined,
    extra: k8s.KubernetesObject[] = [],
  ): CorpusEntry => ({
    name,
    fault,
    objects: [
      deployment(name, ns),
      ...extra,
      ...(templateSpec ? [metricTemplate(`${name}-template`, ns, templateSpec)] : []),
      canary(name, ns, (_s, a) => {
        a.metrics = [
          {
            name: 'custom',
            templateRef: { name: `${name}-template`, namespace: ns },
            thresholdRange: { max: 100 },
            interval: '1m',
          },
        ];
      }),
    ],
    subject: canarySubject(name),
    release: name,
  });
  const ap = (name: string, fault: string, providerSpec: Spec): CorpusEntry => ({
    name,
    fault,
    objects: [
      deployment(name, ns),
      alertProvider(`${name}-provider`, ns, providerSpec),
      canary(name, ns, (_s, a) => {
        a.alerts = [
          { name: 'chat', severity: 'info', providerRef: { name: `${name}-provider`, namespace: ns } },
        ];
      }),
    ],
    subject: canarySubject(name),
    release: name,
  });
  const unlabelled: k8s.KubernetesObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'selector-no-app', namespace: ns, labels: { team: 'payments' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { team: 'payments' } },
      template: {
        metadata: { labels: { team: 'payments' } },
        spec: (podinfoDeployment('selector-no-app', ns, 1).spec?.template.spec ?? {}) as Spec,
      },
    },
  } as k8s.KubernetesObject;
  return [
    {
      name: 'selector-no-app',
      fault: 'a target whose selector has no app/name label',
      objects: [unlabelled, canary('selector-no-app', ns)],
      subject: canarySubject('selector-no-app'),
    },
    {
      name: 'hpa-missing',
      fault: 'autoscalerRef names no HPA',
      objects: [
        deployment('hpa-missing', ns),
        canary('hpa-missing', ns, (s) => {
          s.autoscalerRef = {
            apiVersion: 'autoscaling/v2',
            kind: 'HorizontalPodAutoscaler',
            name: 'no-such-hpa',
          };
        }),
      ],
      subject: canarySubject('hpa-missing'),
    },
    {
      name: 'conflict-second',
      fault: 'two Canaries created together on one target (a race decides which one is refused)',
      objects: [
        deployment('conflict', ns),
        canary('conflict-first', ns, () => undefined, 'conflict'),
        canary('conflict-second', ns, () => undefined, 'conflict'),
      ],
      subject: { ...canarySubject('conflict-second'), or: ['conflict-first'] },
      release: 'conflict',
    },
    {
      name: 'huge-metadata',
      fault: '1.2 MB of webhook metadata (over a workflow input)',
      objects: [
        deployment('huge-metadata', ns),
        canary('huge-metadata', ns, (_s, a) => {
          a.webhooks = [
            {
              name: 'fat',
              type: 'rollout',
              url: 'http://127.0.0.1:9/',
              metadata: Object.fromEntries(
                Array.from({ length: 12 }, (_, i) => [`k${i}`, 'x'.repeat(100_000)]),
              ),
            },
          ];
        }),
      ],
      subject: canarySubject('huge-metadata'),
      release: 'huge-metadata',
    },
    mt('template-missing', 'templateRef names no MetricTemplate', undefined),
    mt('template-datadog', 'MetricTemplate provider datadog', {
      provider: { type: 'datadog', address: 'https://api.datadoghq.com' },
      query: 'avg:requests{*}',
    }),
    mt('template-bad-promql', 'MetricTemplate query not PromQL', {
      provider: { type: 'prometheus' },
      query: 'sum(( by',
    }),
    mt('template-secret-missing', 'MetricTemplate secretRef names no Secret', {
      provider: {
        type: 'prometheus',
        address: 'http://127.0.0.1:9090',
        secretRef: { name: 'no-such-secret' },
      },
      query: 'vector(1)',
    }),
    mt('template-credentials', 'MetricTemplate address with user:password, unreachable', {
      provider: { type: 'prometheus', address: 'http://admin:hunter2@127.0.0.1:9/' },
      query: 'vector(1)',
    }),
    ap('alert-type-unknown', 'AlertProvider type "pager"', { type: 'pager', address: 'http://127.0.0.1:9/' }),
    ap('alert-secret-missing', 'AlertProvider secretRef names no Secret', {
      type: 'slack',
      channel: 'general',
      secretRef: { name: 'no-such-secret' },
    }),
    ap('alert-address-bad', 'AlertProvider address "not a url"', { type: 'slack', address: 'not a url' }),
    {
      name: 'policy-no-selector',
      fault: 'RolloutPolicy without a selector',
      objects: [policy('policy-no-selector', ns, { strategy: 'switch' })],
      subject: { kind: 'RolloutPolicy', name: 'policy-no-selector' },
    },
    {
      name: 'policy-keepwarm-bad',
      fault: 'RolloutPolicy keepWarm "forever"',
      objects: [
        deployment('policy-keepwarm', ns),
        policy('policy-keepwarm-bad', ns, {
          selector: { matchLabels: { policy: 'keepwarm' } },
          strategy: 'switch',
          switch: { keepWarm: 'forever' },
        }),
        withLabels(canary('policy-keepwarm', ns), { policy: 'keepwarm' }),
      ],
      subject: { kind: 'RolloutPolicy', name: 'policy-keepwarm-bad' },
      release: 'policy-keepwarm',
    },
    {
      name: 'policy-operator-bad',
      fault: 'RolloutPolicy selector operator "Equals"',
      objects: [
        policy('policy-operator-bad', ns, {
          selector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['x'] }] },
        }),
      ],
      subject: { kind: 'RolloutPolicy', name: 'policy-operator-bad' },
    },
    {
      name: 'policy-conflict',
      fault: 'two RolloutPolicies select one Canary',
      objects: [
        deployment('policy-conflict', ns),
        policy('policy-conflict-a', ns, { selector: { matchLabels: { policy: 'conflict' } } }),
        policy('policy-conflict-b', ns, {
          selector: { matchLabels: { policy: 'conflict' } },
          strategy: 'switch',
        }),
        withLabels(canary('policy-conflict', ns), { policy: 'conflict' }),
      ],
      subject: canarySubject('policy-conflict'),
      release: 'policy-conflict',
    },
  ];
}

function withLabels(object: k8s.KubernetesObject, labels: Record<string, string>): k8s.KubernetesObject {
  return { ...object, metadata: { ...object.metadata, labels } };
}

/** The corpus for one namespace; `shared-target` is a Deployment the spec faults point at. */
export function badInputCorpus(namespace: string): {
  shared: k8s.KubernetesObject[];
  entries: CorpusEntry[];
} {
  return {
    shared: [deployment('shared-target', namespace)],
    entries: [...specFaults(namespace), ...runtimeFaults(namespace)],
  };
}
