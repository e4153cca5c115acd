// Switch mode's one traffic move: the apex Service's selector set to the green pods (the target's)
// or to the primary's, in one JSON Patch. Setting it to what it already is changes nothing, so a
// retried or replayed flip is never a second flip.
import type * as k8s from '@kubernetes/client-node';
import { fieldManager, primaryLabelValue } from '../canary/naming.ts';
import { selectorLabel } from '../resources/selector-label.ts';
import { jsonPatch, kubeClients, kubernetesCall, plain } from './kubernetes-client.ts';

export interface SwitchApexInput {
  namespace: string;
  /** The apex Service (`spec.service.name`). */
  service: string;
  /** The target Deployment, whose selector label tells green pods from the primary's. */
  target: string;
  to: 'green' | 'primary';
}

export interface SwitchApexResult {
  selector: Record<string, string>;
  /** False when the apex already selected those pods. */
  changed: boolean;
}

export function createApexSwitchActivities(config: k8s.KubeConfig) {
  const clients = kubeClients(config);
  return {
    async switchApex(input: SwitchApexInput): Promise<SwitchApexResult> {
      const { namespace } = input;
      const target = plain(
        await kubernetesCall(`read Deployment ${namespace}/${input.target}`, () =>
          clients.apps.readNamespacedDeployment({ name: input.target, namespace }),
        ),
      );
      const label = selectorLabel(target);
      const selector = { [label.key]: input.to === 'green' ? label.value : primaryLabelValue(label.value) };
      const apex = await kubernetesCall(`read Service ${namespace}/${input.service}`, () =>
        clients.core.readNamespacedService({ name: input.service, namespace }),
      );
      const current = apex.spec?.selector ?? {};
      if (JSON.stringify(current) === JSON.stringify(selector)) return { selector, changed: false };
      await kubernetesCall(`switch Service ${namespace}/${input.service} to the ${input.to} pods`, () =>
        clients.core.patchNamespacedService(
          {
            name: input.service,
            namespace,
            body: [{ op: 'replace', path: '/spec/selector', value: selector }],
            fieldManager,
          },
          jsonPatch,
        ),
      );
      return { selector, changed: true };
    },
  };
}
