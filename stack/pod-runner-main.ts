// Entry point of the pod runner process that `stack up` starts in the background:
// `node stack/pod-runner-main.ts --state-dir DIR` (the flag names the stack on the command line, so
// `stack down` can find this process even when its pid file is gone).
import { parseArgs } from 'node:util';
import { kubeClient } from './cluster.ts';
import { stackEndpoints } from './endpoints.ts';
import { PodRunner } from './pod-runner.ts';

const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } } });
if (values['state-dir'] !== undefined) process.env.CUTOVER_STATE_DIR = values['state-dir'];
const endpoints = stackEndpoints();
const runner = new PodRunner(kubeClient(endpoints.kubeconfig), endpoints.stateDir, endpoints.servicesFile);
await runner.start();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void runner.stop().finally(() => process.exit(0));
  });
}
