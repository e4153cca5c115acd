// The workflow-level test layer: @temporalio/testing's local environment on the cached `temporal`
// binary (nothing downloaded), one worker per test file running the real workflow code, and the
// activity boundary replaced by an in-memory cluster (fake-cluster.ts).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { toolPath } from '../../stack/tools.ts';
import { cutoverSearchAttributes } from '../../workflows/search-attributes.ts';
import { workflowBundle } from './worker.ts';

let runtimeInstalled = false;

export async function startWorkflowEnvironment(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const extraArgs = [
    '--log-level',
    'warn',
    // As on the stack's dev server: sub-second timers fire on time.
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="50ms"',
  ];
  for (const [name, type] of Object.entries(cutoverSearchAttributes)) {
    extraArgs.push('--search-attribute', `${name}=${type}`);
  }
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: toolPath('temporal') }, ip: '127.0.0.1', extraArgs },
  });
}

export async function startFakeWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: object,
): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
