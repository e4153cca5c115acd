// A real Temporal worker for one test file: the project's workflows and activities against the real
// dev server, cluster and Prometheus of the stack.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../../activities/index.ts';
import { endpoints, kube } from './cluster.ts';

let runtimeInstalled = false;
let bundle: WorkflowBundleWithSourceMap | undefined;

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
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
