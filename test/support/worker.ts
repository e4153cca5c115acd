// A real Temporal worker for one test file: the project's workflows and activities against the real
// dev server, cluster and Prometheus of the stack.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowBundlePath } from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { buildWorkflowBundle, bundleState, defaultBundlePath } from '../../worker/workflow-bundle.ts';
import { crashRecoveryWorkerOptions } from '../../worker/crash-recovery.ts';
import { endpoints, kube } from './cluster.ts';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundlePath> | undefined;

export { workflowsPath } from '../../worker/workflow-bundle.ts';

export function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/**
 * The workflow bundle the worker loads (dist/workflow-bundle.js), built here first when it is missing
 * or older than the sources, so every test file and the worker process run the same bundle.
 */
export function workflowBundle(): Promise<WorkflowBundlePath> {
  bundle ??= (async () => {
    if (bundleState().state !== 'fresh') await buildWorkflowBundle({ logger: new DefaultLogger('WARN') });
    return { codePath: defaultBundlePath };
  })();
  return bundle;
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startTestWorker(name: string): Promise<TestWorker> {
  quietRuntime();
  const taskQueue = `${name}-${process.pid}-${Date.now().toString(36)}`;
  const connection = await Connection.connect({ address: endpoints.temporalAddress });
  const client = new Client({ connection, namespace: endpoints.temporalNamespace });
  const nativeConnection = await NativeConnection.connect({ address: endpoints.temporalAddress });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: endpoints.temporalNamespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    // As the worker runs: heartbeats flushed every second, well inside the activities' 3 s timeout.
    ...crashRecoveryWorkerOptions,
    activities: createActivities({
      kubeconfig: kube().config,
      temporal: client,
      defaultPrometheusUrl: endpoints.prometheusUrl,
    }),
  });
  const running = worker.run();
  return {
    client,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    },
  };
}
