// The main job: Flagger's blue/green tutorial, run by Cutover on the local stack of real parts.
// podinfo with an HPA, a Canary with the builtin success-rate and duration checks, an acceptance
// (pre-rollout) hook and a load-test hook served by Flagger's own loadtester running `hey` against
// the canary's local address. A new image is promoted; then, with a RolloutPolicy in switch mode, a
// second is switched to and rolled back by hand at once; a faulty one (answering 500s) is rolled back.
// Pass --keep to leave everything running for exploring.
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { applyCrds } from '../client/crds.ts';
import { temporalUiLink } from '../client/format.ts';
import { rolloutWorkflowId } from '../client/workflow-ids.ts';
import { createKubernetesActivities } from '../activities/kubernetes.ts';
import { kubeClient } from '../stack/cluster.ts';
import { stackEndpoints } from '../stack/endpoints.ts';
import { podinfoMessage } from '../stack/podinfo-probe.ts';
import { readServiceMap } from '../stack/pod-runner.ts';
import { waitFor } from '../stack/processes.ts';
import { stackDown, stackUp } from '../stack/stack.ts';
import { repoRoot, toolPath } from '../stack/tools.ts';
import { applyChangeControl } from '../client/change-control-install.ts';

const keep = process.argv.includes('--keep');
const namespace = 'test';
const loadtesterPort = Number(process.env.CUTOVER_LOADTESTER_PORT ?? 8089);
const began = Date.now();
const endpoints = stackEndpoints();

function step(message: string): void {
  const seconds = ((Date.now() - began) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`\n[${seconds}s] ${message}\n`);
}

function startProcess(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const log = openSync(join(endpoints.stateDir, 'logs', `${name}.log`), 'a');
  return spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
}

function cli(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [join(repoRoot, 'client', 'cli.ts'), ...args], {
    env: { ...process.env, KUBECONFIG: endpoints.kubeconfig, TEMPORAL_ADDRESS: endpoints.temporalAddress },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

const podinfoContainer = (image: string, extraArgs: string[] = []): k8s.V1Container => ({
  name: 'podinfod',
  image,
  command: ['./podinfo', '--port=9898', '--port-metrics=9797', '--level=info', ...extraArgs],
  ports: [
    { name: 'http', containerPort: 9898 },
    { name: 'http-metrics', containerPort: 9797 },
  ],
});

step('bringing up the local stack: Temporal dev server, KWOK cluster, Prometheus, pod runner');
const started = await stackUp(endpoints);
const config = kubeClient(endpoints.kubeconfig);
const apps = config.makeApiClient(k8s.AppsV1Api);
const core = config.makeApiClient(k8s.CoreV1Api);
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const autoscaling = config.makeApiClient(k8s.AutoscalingV2Api);
const kubernetes = createKubernetesActivities(config);
const children: ChildProcess[] = [];
const canaryStatus = async (): Promise<{ phase?: string; lastAppliedSpec?: string }> => {
  const object = (await custom.getNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace,
    plural: 'canaries',
    name: 'podinfo',
  })) as { status?: { phase?: string; lastAppliedSpec?: string } };
  return object.status ?? {};
};
const rollouts: { title: string; workflowId: string }[] = [];
let exitCode = 0;

try {
  step("installing Cutover's CRDs (Flagger's flagger.app/v1beta1 Canary, MetricTemplate, AlertProvider)");
  await applyCrds(config);
  step(
    'installing change control: the approver/operator ClusterRoles and the RolloutAction admission policy',
  );
  await applyChangeControl(config, 'cutover-demo');

  step(`starting Flagger's loadtester on 127.0.0.1:${loadtesterPort} (its hooks run hey and curl)`);
  children.push(
    startProcess('loadtester', toolPath('loadtester'), [
      `-port=${loadtesterPort}`,
      '-timeout=1h',
      '-log-level=info',
    ]),
  );
  await waitFor(
    'the loadtester',
    async () =>
      (await fetch(`http://127.0.0.1:${loadtesterPort}/healthz`).catch(() => undefined))?.ok === true,
    30_000,
  );

  step('starting `cutover worker` (revision watcher + Temporal worker) for namespace test');
  children.push(
    startProcess(
      'cutover-worker',
      process.execPath,
      [join(repoRoot, 'client', 'cli.ts'), 'worker', '--watch-namespace', namespace, '--min-interval', '1s'],
      {
        KUBECONFIG: endpoints.kubeconfig,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        PROMETHEUS_URL: endpoints.prometheusUrl,
        CUTOVER_METRICS_PORT: process.env.CUTOVER_METRICS_PORT ?? '8080',
      },
    ),
  );

  step('applying the tutorial: namespace test, Deployment podinfo (HPA 2–4 replicas), Canary podinfo');
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await waitFor(
    'an old test namespace to be gone',
    () =>
      core.readNamespace({ name: namespace }).then(
        () => false,
        (error: unknown) => error instanceof k8s.ApiException && error.code === 404,
      ),
    120_000,
  );
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(
    'the default ServiceAccount',
    async () => Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace })),
    30_000,
  );
  const labels = { app: 'podinfo' };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'podinfo', labels },
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 60,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [podinfoContainer('ghcr.io/stefanprodan/podinfo:6.9.2')] },
        },
      },
    },
  });
  await autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name: 'podinfo' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        minReplicas: 2,
        maxReplicas: 4,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 99 } },
          },
        ],
      },
    },
  });
  const loadtester = `http://127.0.0.1:${loadtesterPort}/`;
  const canary = {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace },
    spec: {
      provider: 'kubernetes',
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      autoscalerRef: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'podinfo' },
      progressDeadlineSeconds: 60,
      service: { port: 9898, portDiscovery: true },
      analysis: {
        interval: '3s',
        threshold: 3,
        iterations: 5,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '30s' },
          { name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' },
        ],
        webhooks: [] as Record<string, unknown>[],
      },
    },
  };
  const created = (await custom.createNamespacedCustomObject({
    group: 'flagger.app',
    version: 'v1beta1',
    namespace,
    plural: 'canaries',
    body: canary,
  })) as { metadata: { uid: string } };
  await waitFor(
    'Canary test/podinfo to be Initialized',
    async () => {
      return (await canaryStatus()).phase === 'Initialized';
    },
    120_000,
  );
  await waitFor(
    'the canary Service to have a local address',
    async () => Boolean(readServiceMap(endpoints.servicesFile)[`podinfo-canary.${namespace}`]?.http),
    30_000,
  );
  const canaryAddress =
    readServiceMap(endpoints.servicesFile)[`podinfo-canary.${namespace}`]?.http?.address ?? '';
  step(
    `initialized: podinfo-primary serves production; Services podinfo, podinfo-primary, podinfo-canary created.\n` +
      `  The canary Service is reachable locally at ${canaryAddress}; the hooks send their traffic there.`,
  );
  // Flagger's tutorial hooks, with the in-cluster host name replaced by the canary's local address.
  canary.spec.analysis.webhooks = [
    {
      name: 'acceptance-test',
      type: 'pre-rollout',
      url: loadtester,
      timeout: '30s',
      metadata: { type: 'bash', cmd: `curl -sd 'test' http://${canaryAddress}/token | grep token` },
    },
    {
      name: 'load-test',
      url: loadtester,
      timeout: '5s',
      metadata: { cmd: `hey -z 1m -q 10 -c 2 http://${canaryAddress}/` },
    },
  ];
  await custom.patchNamespacedCustomObject(
    {
      group: 'flagger.app',
      version: 'v1beta1',
      namespace,
      plural: 'canaries',
      name: 'podinfo',
      body: { spec: { analysis: { webhooks: canary.spec.analysis.webhooks } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );

  /** What the apex Service answers a new client (a new connection): podinfo's `message`, i.e. which version serves. */
  const apexAnswer = async (): Promise<string> => {
    const address = readServiceMap(endpoints.servicesFile)[`podinfo.${namespace}`]?.http?.address ?? '';
    return (await podinfoMessage(address)) ?? '(no answer)';
  };

  /**
   * Act 3, switch mode: a RolloutPolicy beside the unchanged Canary makes the next promotion a traffic
   * switch to the tested pods, with blue kept warm; `cutover rollback` brings blue back at once.
   */
  const switchAndRollBack = async (): Promise<void> => {
    step(
      'rollout 2, switch mode: kubectl apply a RolloutPolicy (strategy: switch, keepWarm: 5m) beside the Canary',
    );
    await custom.createNamespacedCustomObject({
      group: 'cutover.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'rolloutpolicies',
      body: {
        apiVersion: 'cutover.dev/v1alpha1',
        kind: 'RolloutPolicy',
        metadata: { name: 'switch', namespace },
        spec: { selector: {}, strategy: 'switch', switch: { keepWarm: '5m', analysis: { metrics: [] } } },
      },
    });
    const blue = await apexAnswer();
    step(`rollout 2: the apex Service answers "${blue}" (blue); kubectl set image … podinfo:6.9.5`);
    await apps.patchNamespacedDeployment(
      {
        name: 'podinfo',
        namespace,
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  podinfoContainer('ghcr.io/stefanprodan/podinfo:6.9.5', ['--ui-message=green 6.9.5']),
                ],
              },
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const { revision } = await kubernetes.currentRevision({ namespace, target: 'podinfo' });
    rollouts.push({
      title: 'rollout 2, switch mode',
      workflowId: rolloutWorkflowId(namespace, 'podinfo', created.metadata.uid, revision),
    });
    await waitFor(
      'the apex to serve the tested green pods',
      async () => (await apexAnswer()) === 'green 6.9.5',
      180_000,
    );
    step(
      'rollout 2: analysis passed; the apex now sends production traffic to the tested green pods; blue stays warm',
    );
    await cli(['status', `${namespace}/podinfo`]);
    // A RolloutAction, admitted as the demo's (admin) user by the policy installed above: the rollback is
    // recorded with the identity the API server verified.
    step(`rollout 2: cutover rollback ${namespace}/podinfo --reason "demo: instant rollback"`);
    const asked = Date.now();
    await cli(['rollback', `${namespace}/podinfo`, '--reason', 'demo: instant rollback']);
    await waitFor('blue to serve again', async () => (await apexAnswer()) === blue, 30_000);
    step(
      `rollout 2: blue answers again ${Date.now() - asked} ms after the rollback ("${await apexAnswer()}")`,
    );
    await waitFor('the Canary to say Failed', async () => (await canaryStatus()).phase === 'Failed', 60_000);
  };

  const release = async (
    title: string,
    container: k8s.V1Container,
    expectPromoted: boolean,
  ): Promise<void> => {
    step(`${title}: kubectl set image deployment/podinfo podinfod=${container.image}`);
    await apps.patchNamespacedDeployment(
      { name: 'podinfo', namespace, body: { spec: { template: { spec: { containers: [container] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const { revision } = await kubernetes.currentRevision({ namespace, target: 'podinfo' });
    const workflowId = rolloutWorkflowId(namespace, 'podinfo', created.metadata.uid, revision);
    rollouts.push({ title, workflowId });
    await waitFor(
      `the rollout of revision ${revision} to start`,
      async () => {
        return (await canaryStatus()).lastAppliedSpec === revision;
      },
      30_000,
    );
    step(`${title}: cutover watch ${namespace}/podinfo`);
    const code = await cli(['watch', `${namespace}/podinfo`]);
    const outcome = code === 0 ? 'promoted' : 'rolled back';
    step(`${title}: ${outcome}${expectPromoted === (code === 0) ? '' : ' (unexpected!)'}`);
    if (expectPromoted !== (code === 0)) exitCode = 1;
  };

  await release('rollout 1, a new version', podinfoContainer('ghcr.io/stefanprodan/podinfo:6.9.3'), true);
  await switchAndRollBack();
  await release(
    'rollout 3, a faulty version that answers 500s (switch mode: the analysis stops it before any switch)',
    podinfoContainer('ghcr.io/stefanprodan/podinfo:6.9.4', ['--random-error=true']),
    false,
  );

  step('the Canary tells the story (kubectl describe canary/podinfo -n test):');
  const events = await core.listNamespacedEvent({
    namespace,
    fieldSelector: 'involvedObject.kind=Canary,involvedObject.name=podinfo',
  });
  for (const event of events.items.sort(
    (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
  )) {
    process.stdout.write(`  ${(event.type ?? '').padEnd(8)} ${event.message}\n`);
  }
  step(`cutover history ${namespace}/podinfo`);
  await cli(['history', `${namespace}/podinfo`]);
  step(`Temporal UI: ${endpoints.temporalUiUrl}`);
  for (const rollout of rollouts) {
    process.stdout.write(
      `  ${rollout.title}: ${temporalUiLink(endpoints.temporalUiUrl, endpoints.temporalNamespace, rollout.workflowId)}\n`,
    );
  }
  process.stdout.write(
    `  every step of one rollout: cutover history ${namespace}/podinfo --rollout <workflow id>\n`,
  );
} catch (error) {
  exitCode = 1;
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stderr.write(`logs: ${join(endpoints.stateDir, 'logs')}\n`);
} finally {
  if (keep) {
    step(
      `left running (--keep). Try: KUBECONFIG=${endpoints.kubeconfig} node client/cli.ts list -A\n` +
        `  Stop everything with: npm run stack -- down   (the worker and loadtester stop with this command's Ctrl-C)`,
    );
    if (exitCode === 0) await new Promise(() => undefined);
  } else {
    for (const child of children) child.kill('SIGTERM');
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await stackDown(started, endpoints);
    step(`cleaned up; demo took ${((Date.now() - began) / 1000).toFixed(0)}s`);
  }
}
process.exit(exitCode);
