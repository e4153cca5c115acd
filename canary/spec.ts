// The shapes of Flagger's `flagger.app/v1beta1` objects, as Cutover reads them.
//
// Every object is a `looseObject`: fields Cutover does not read (Istio match rules, gateway refs,
// session affinity, …) pass through untouched, so a Flagger user's YAML parses unchanged and
// nothing is lost when an object is written back. These schemas only check types and fill in
// Flagger's defaults; whether Cutover can *run* a Canary is decided in `validate.ts`, where each
// problem gets a sentence that names the field and the fix.
import { z } from 'zod';

export const apiGroup = 'flagger.app';
export const apiVersion = 'flagger.app/v1beta1';

/** Flagger's defaults, by the names its Go code gives them. */
export const canaryDefaults = {
  analysisInterval: '1m',
  metricInterval: '1m',
  threshold: 1,
  progressDeadlineSeconds: 600,
  canaryReadyThreshold: 100,
  primaryReadyThreshold: 100,
  portName: 'http',
  webhookTimeout: '10s',
  webhookRetries: 0,
  alertSeverity: 'info',
} as const;

const stringMap = z.record(z.string(), z.string());

/** `{apiVersion, kind, name, namespace}`, Flagger's CrossNamespaceObjectReference. */
export const objectReferenceSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string(),
  namespace: z.string().optional(),
});
export type ObjectReference = z.infer<typeof objectReferenceSchema>;

export const canaryServiceSchema = z.looseObject({
  name: z.string().optional(),
  // Optional here so that its absence is reported by validate.ts in words, not by zod.
  port: z.number().optional(),
  portName: z.string().default(canaryDefaults.portName),
  targetPort: z.union([z.number(), z.string()]).optional(),
  portDiscovery: z.boolean().default(false),
});
export type CanaryService = z.infer<typeof canaryServiceSchema>;

export const thresholdRangeSchema = z.looseObject({
  min: z.number().optional(),
  max: z.number().optional(),
});
export type ThresholdRange = z.infer<typeof thresholdRangeSchema>;

export const canaryMetricSchema = z.looseObject({
  name: z.string(),
  interval: z.string().default(canaryDefaults.metricInterval),
  /** Deprecated in Flagger: min for request-success-rate, max for everything else. */
  threshold: z.number().optional(),
  thresholdRange: thresholdRangeSchema.optional(),
  /** Deprecated in Flagger (replaced by templateRef): inline PromQL run against `metricsServer`. */
  query: z.string().optional(),
  templateRef: objectReferenceSchema.optional(),
  templateVariables: stringMap.optional(),
});
export type CanaryMetric = z.infer<typeof canaryMetricSchema>;

export const canaryWebhookSchema = z.looseObject({
  name: z.string(),
  // Any string here: an unknown type is a worded problem in validate.ts. "" means "rollout".
  type: z.string().default(''),
  url: z.string(),
  timeout: z.string().default(canaryDefaults.webhookTimeout),
  retries: z.number().default(canaryDefaults.webhookRetries),
  metadata: stringMap.optional(),
  disableTLS: z.boolean().default(false),
  muteAlert: z.boolean().default(false),
});
export type CanaryWebhook = z.infer<typeof canaryWebhookSchema>;

export const canaryAlertSchema = z.looseObject({
  name: z.string(),
  // "" is allowed by Flagger's CRD and means info.
  severity: z.string().default(canaryDefaults.alertSeverity),
  providerRef: objectReferenceSchema,
});
export type CanaryAlert = z.infer<typeof canaryAlertSchema>;

export const canaryAnalysisSchema = z.looseObject({
  interval: z.string().default(canaryDefaults.analysisInterval),
  iterations: z.number().optional(),
  threshold: z.number().default(canaryDefaults.threshold),
  // Traffic shifting: read only to say Cutover does not do it.
  maxWeight: z.number().optional(),
  stepWeight: z.number().optional(),
  stepWeights: z.array(z.number()).optional(),
  stepWeightPromotion: z.number().optional(),
  /** A/B testing match conditions: read only to say the kubernetes provider cannot route on them. */
  match: z.array(z.unknown()).optional(),
  mirror: z.boolean().default(false),
  canaryReadyThreshold: z.number().default(canaryDefaults.canaryReadyThreshold),
  primaryReadyThreshold: z.number().default(canaryDefaults.primaryReadyThreshold),
  metrics: z.array(canaryMetricSchema).default([]),
  webhooks: z.array(canaryWebhookSchema).default([]),
  alerts: z.array(canaryAlertSchema).default([]),
  // sessionAffinity and the rest pass through and are ignored.
});
export type CanaryAnalysis = z.infer<typeof canaryAnalysisSchema>;

export const canarySpecSchema = z.looseObject({
  provider: z.string().optional(),
  metricsServer: z.string().optional(),
  // Optional here so that its absence is reported by validate.ts in words.
  targetRef: objectReferenceSchema.optional(),
  autoscalerRef: objectReferenceSchema.optional(),
  service: canaryServiceSchema.optional(),
  analysis: canaryAnalysisSchema.optional(),
  /** Flagger's deprecated name for `analysis`, still honoured when `analysis` is absent. */
  canaryAnalysis: canaryAnalysisSchema.optional(),
  progressDeadlineSeconds: z.number().default(canaryDefaults.progressDeadlineSeconds),
  skipAnalysis: z.boolean().default(false),
  suspend: z.boolean().default(false),
  revertOnDeletion: z.boolean().default(false),
});
export type CanarySpec = z.infer<typeof canarySpecSchema>;

export const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastUpdateTime: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

export const canaryStatusSchema = z.looseObject({
  // A plain string: a phase written by another controller must not make the object unreadable.
  phase: z.string().optional(),
  failedChecks: z.number().optional(),
  canaryWeight: z.number().optional(),
  iterations: z.number().optional(),
  trackedConfigs: stringMap.optional(),
  lastAppliedSpec: z.string().optional(),
  lastPromotedSpec: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
});
export type CanaryStatus = z.infer<typeof canaryStatusSchema>;

export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});
export type ObjectMeta = z.infer<typeof objectMetaSchema>;

export const canarySchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.default({}),
  spec: canarySpecSchema,
  status: canaryStatusSchema.optional(),
});
/** A Canary as parsed: types checked, Flagger's defaults filled in, unknown fields kept. */
export type Canary = z.infer<typeof canarySchema>;

// ---- MetricTemplate ----

export const metricTemplateProviderSchema = z.looseObject({
  type: z.string(),
  address: z.string().optional(),
  secretRef: z.looseObject({ name: z.string() }).optional(),
  /** HTTP headers, each with a list of values (Go's http.Header). */
  headers: z.record(z.string(), z.array(z.string())).optional(),
  insecureSkipVerify: z.boolean().default(false),
});
export type MetricTemplateProvider = z.infer<typeof metricTemplateProviderSchema>;

export const metricTemplateSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.default({}),
  spec: z.looseObject({
    provider: metricTemplateProviderSchema,
    query: z.string(),
  }),
});
export type MetricTemplate = z.infer<typeof metricTemplateSchema>;

// ---- AlertProvider ----

export const alertProviderTypes = ['slack', 'msteams', 'discord', 'rocket', 'gchat'] as const;
export type AlertProviderType = (typeof alertProviderTypes)[number];

export const alertProviderSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.default({}),
  spec: z.looseObject({
    type: z.enum(alertProviderTypes),
    channel: z.string().optional(),
    username: z.string().optional(),
    /** The hook URL; or the `address` key of the Secret named by secretRef. */
    address: z.string().optional(),
    secretRef: z.looseObject({ name: z.string() }).optional(),
    proxy: z.string().optional(),
  }),
});
export type AlertProvider = z.infer<typeof alertProviderSchema>;
