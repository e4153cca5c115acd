// Entry point of the pod runner process that `stack up` starts in the background.
import { kubeClient } from './cluster.ts';
import { stackEndpoints } from './endpoints.ts';
import { PodRunner } from './pod-runner.ts';

const endpoints = stackEndpoints();
const runner = new PodRunner(kubeClient(endpoints.kubeconfig), endpoints.stateDir, endpoints.servicesFile);
await runner.start();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void runner.stop().finally(() => process.exit(0));
  });
}
