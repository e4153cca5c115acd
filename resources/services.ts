// The three ClusterIP Services of a blue/green Canary: the apex `<svc>` and `<svc>-primary` select
// the primary's pods (`<label>=<value>-primary`), `<svc>-canary` selects the target's (`<label>=<value>`).
import type { V1Deployment, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { canaryServiceName, primaryLabelValue, primaryServiceName } from '../canary/naming.ts';
import { generatedMetadata, type CanaryRef } from './owner.ts';
import { selectorLabel } from './selector-label.ts';

/** `spec.service` as the Services need it (`ValidCanary['service']`). */
export interface ServiceSettings {
  /** The apex Service name. */
  name: string;
  port: number;
  portName: string;
  targetPort: number | string;
  portDiscovery: boolean;
}

/**
 * The Services' ports: first `{name: portName, port, targetPort}`; with `portDiscovery`, every other
 * port of the target's containers (Flagger's rule: the one `targetPort` already names is skipped, a
 * port without a name is called `tcp-<container>-<index>`). Ports whose name or number is already
 * taken are skipped too, because a Service with duplicates would be rejected.
 */
export function servicePorts(service: ServiceSettings, target: V1Deployment): V1ServicePort[] {
  const ports: V1ServicePort[] = [
    { name: service.portName, protocol: 'TCP', port: service.port, targetPort: service.targetPort },
  ];
  if (!service.portDiscovery) return ports;
  const names = new Set([service.portName]);
  const numbers = new Set([service.port]);
  for (const container of target.spec?.template?.spec?.containers ?? []) {
    (container.ports ?? []).forEach((p, index) => {
      const isServicePort =
        typeof service.targetPort === 'number'
          ? p.containerPort === service.targetPort
          : p.name === service.targetPort;
      if (isServicePort || (p.protocol ?? 'TCP') !== 'TCP') return;
      const name = p.name || `tcp-${container.name}-${index}`;
      if (names.has(name) || numbers.has(p.containerPort)) return;
      names.add(name);
      numbers.add(p.containerPort);
      ports.push({ name, protocol: 'TCP', port: p.containerPort, targetPort: p.containerPort });
    });
  }
  return ports;
}

export interface CanaryServicesInput {
  canary: CanaryRef;
  target: V1Deployment;
  service: ServiceSettings;
}

function clusterIpService(
  name: string,
  input: CanaryServicesInput,
  selector: Record<string, string>,
): V1Service {
  const label = selectorLabel(input.target);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: generatedMetadata(name, input.canary, { [label.key]: name }),
    spec: { type: 'ClusterIP', selector, ports: servicePorts(input.service, input.target) },
  };
}

/** `<svc>`, selecting the primary's pods: where users' traffic goes. */
export function apexService(input: CanaryServicesInput): V1Service {
  const label = selectorLabel(input.target);
  return clusterIpService(input.service.name, input, { [label.key]: primaryLabelValue(label.value) });
}

/** `<svc>-primary`, selecting the primary's pods. */
export function primaryService(input: CanaryServicesInput): V1Service {
  const label = selectorLabel(input.target);
  return clusterIpService(primaryServiceName(input.service.name), input, {
    [label.key]: primaryLabelValue(label.value),
  });
}

/** `<svc>-canary`, selecting the target's (green) pods. */
export function canaryService(input: CanaryServicesInput): V1Service {
  const label = selectorLabel(input.target);
  return clusterIpService(canaryServiceName(input.service.name), input, { [label.key]: label.value });
}

/** Where a taken-over apex Service keeps what it selected before, for `revertOnDeletion`. */
export const apexBeforeTakeoverAnnotation = 'cutover.io/apex-before-takeover';

export interface ApexTakeoverPatchInput {
  /** The existing apex Service, not owned by the Canary. */
  existing: V1Service;
  /** The apex Service Cutover wants (`apexService`). */
  desired: V1Service;
}

/**
 * Taking over an apex Service someone else created: a JSON Patch that replaces exactly its selector
 * and ports (nothing else of it changes, and it stays theirs: no owner reference, so deleting the
 * Canary does not delete it), and records the previous selector and ports in an annotation the
 * first time, so that a revert can restore them.
 */
export function apexTakeoverPatch(
  input: ApexTakeoverPatchInput,
): { op: 'add'; path: string; value: unknown }[] {
  const ops: { op: 'add'; path: string; value: unknown }[] = [
    { op: 'add', path: '/spec/selector', value: input.desired.spec?.selector ?? {} },
    { op: 'add', path: '/spec/ports', value: input.desired.spec?.ports ?? [] },
  ];
  const annotations = input.existing.metadata?.annotations;
  if (annotations?.[apexBeforeTakeoverAnnotation] === undefined) {
    const before = JSON.stringify({
      selector: input.existing.spec?.selector ?? {},
      ports: input.existing.spec?.ports ?? [],
    });
    if (annotations === undefined) {
      ops.push({
        op: 'add',
        path: '/metadata/annotations',
        value: { [apexBeforeTakeoverAnnotation]: before },
      });
    } else {
      ops.push({
        op: 'add',
        path: `/metadata/annotations/${escapePointer(apexBeforeTakeoverAnnotation)}`,
        value: before,
      });
    }
  }
  return ops;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
