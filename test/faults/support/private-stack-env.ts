// Points this test process at a private local stack (its own state dir and free loopback ports), so
// that outages (Temporal stopped, the apiserver frozen, Prometheus gone) hurt no one else using the
// shared stack. Import it first: stack/endpoints.ts reads the ports when it is loaded. Synchronous on
// purpose: a module with top-level await lets its sibling imports load before it has finished.
// Touches only this process's environment (and so its children's).
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Four loopback ports free now, found by a child process (binding is asynchronous in Node).
const findPorts = `
const net = require('node:net');
const servers = [0, 1, 2, 3].map(() => net.createServer());
Promise.all(servers.map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r)))).then(() => {
  process.stdout.write(servers.map((s) => s.address().port).join(' '));
  servers.forEach((s) => s.close());
});`;
const [temporal, temporalUi, prometheus, apiserver] = execFileSync(process.execPath, ['-e', findPorts], {
  encoding: 'utf8',
  timeout: 10_000,
}).split(' ');

process.env.CUTOVER_STATE_DIR = join(tmpdir(), `cutover-faults-stack-${process.pid}`);
process.env.CUTOVER_TEMPORAL_PORT = temporal;
process.env.CUTOVER_TEMPORAL_UI_PORT = temporalUi;
process.env.CUTOVER_PROMETHEUS_PORT = prometheus;
process.env.CUTOVER_KUBE_APISERVER_PORT = apiserver;
// The outages are the test's to cause and end: nothing restarts a component behind its back.
process.env.CUTOVER_STACK_SUPERVISE = '0';
for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'KUBECONFIG', 'PROMETHEUS_URL'])
  delete process.env[name];
