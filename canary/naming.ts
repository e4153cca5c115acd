// Names of the objects Cutover generates for a Canary, as Flagger names them, so that dashboards,
// alerts and scripts written against Flagger keep finding them.

/** The Deployment that serves production traffic: `<target>-primary`. */
export function primaryName(targetName: string): string {
  return `${targetName}-primary`;
}

/** The apex Service: the target's name, or `service.name` when the Canary sets it. */
export function apexServiceName(targetName: string, serviceName?: string): string {
  return serviceName ?? targetName;
}

export function primaryServiceName(apexName: string): string {
  return `${apexName}-primary`;
}

export function canaryServiceName(apexName: string): string {
  return `${apexName}-canary`;
}

/** Tracked ConfigMaps and Secrets are copied for the primary as `<name>-primary`. */
export function primaryConfigName(name: string): string {
  return `${name}-primary`;
}

/** The HPA of the primary: `<hpa>-primary`. */
export function primaryAutoscalerName(hpaName: string): string {
  return `${hpaName}-primary`;
}

/** The label selector value of the primary's pods: `<value>-primary`. */
export function primaryLabelValue(value: string): string {
  return `${value}-primary`;
}

/** The field manager of every server-side apply Cutover makes. */
export const fieldManager = 'cutover';

/** Label put on every object Cutover generates. */
export const managedByLabel = 'app.kubernetes.io/managed-by';
export const managedByValue = 'cutover';
