// Secrets never in clear in Temporal: a real rollout by the `cutover worker` process with a payload key,
// whose Canary uses a Secret-backed MetricTemplate (a token, and basic auth in the Secret's address), an
// AlertProvider whose Secret holds the webhook address, and webhook metadata with a marker. Its raw
// history, as `temporal workflow show` prints it without a codec, holds none of those values, not even
// inside base64; the codec server opens a payload for a holder of the token only, and the CLI reads the
// rollout with the key and says which key it lacks without it.
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../../stack/processes.ts';
import { toolPath } from '../../stack/tools.ts';
import { freeLocalPort } from '../../stack/tcp-proxy.ts';
import { authenticatedPrometheus } from '../support/authenticated-prometheus.ts';
import { runCommand } from '../support/run-command.ts';
import { runCutover } from '../support/cli-process.ts';
import { endpoints, kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { canaryEvents, canaryObject, ensureCrds, readCanaryStatus } from '../support/canaries.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';

const marker = (what: string): string => `${what}-${randomBytes(6).toString('hex')}`;
const secrets = {
  token: marker('prom-token'),
  username: marker('scrape-user'),
  password: marker('scrape-password'),
  alertPath: `/alerts/${marker('alert-address')}`,
  webhookMetadata: marker('webhook-metadata'),
};
const currentKey = randomBytes(32).toString('base64');
const retiredKey = randomBytes(32).toString('base64');
const codecToken = randomBytes(24).toString('hex');

let dir: string;
let keyFile: string;
let client: Client;
let connection: Connection;

before(async () => {
  await ensureCrds();
  dir = mkdtempSync(join(tmpdir(), 'cutover-codec-'));
  keyFile = join(dir, 'payload-keys');
  // Rotation as documented: the new key first, the old one kept for the histories it sealed.
  writeFileSync(keyFile, `k2=${currentKey}\nk1=${retiredKey}\n`, { mode: 0o600 });
  // A plain client with no codec: what anyone with access to Temporal sees.
  connection = await Connection.connect({ address: endpoints.temporalAddress });
  client = new Client({ connection, namespace: endpoints.temporalNamespace });
});
after(async () => {
  await connection.close();
  rmSync(dir, { recursive: true, force: true });
});

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Every payload-shaped object (`metadata.encoding` set) anywhere in a JSON document. */
function payloadsIn(value: unknown, found: JsonPayload[] = []): JsonPayload[] {
  if (typeof value !== 'object' || value === null) return found;
  const metadata = (value as JsonPayload).metadata;
  if (typeof metadata === 'object' && metadata !== null && typeof metadata.encoding === 'string') {
    found.push(value as JsonPayload);
  }
  for (const child of Object.values(value)) payloadsIn(child, found);
  return found;
}

/** Every string in a JSON document, and, for each that reads as base64, what it decodes to. */
function textsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    found.push(value);
    if (value.length >= 8 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
      found.push(Buffer.from(value, 'base64').toString('latin1'));
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) textsIn(child, found);
  }
  return found;
}

const decoded = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/** `temporal workflow show --output json`, with the extra flags given (a codec endpoint, say). */
async function rawHistory(workflowId: string, runId: string, extra: string[] = []): Promise<unknown> {
  const shown = await runCommand(toolPath('temporal'), [
    'workflow',
    'show',
    '--address',
    endpoints.temporalAddress,
    '--namespace',
    endpoints.temporalNamespace,
    '--workflow-id',
    workflowId,
    '--run-id',
    runId,
    '--output',
    'json',
    ...extra,
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout) as unknown;
}

async function applyRollout(ns: string, hooks: WebhookReceiver, prometheusPort: number): Promise<void> {
  const { config, apps, core } = kube();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const create = (plural: string, body: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({
      group: 'flagger.app',
      version: 'v1beta1',
      namespace: ns,
      plural,
      body,
    });
  // One template sends a token, the other basic auth written into the Secret's address.
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'prom-token' },
      stringData: { token: secrets.token, address: `http://127.0.0.1:${prometheusPort}` },
    },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'prom-basic' },
      stringData: { address: `http://${secrets.username}:${secrets.password}@127.0.0.1:${prometheusPort}` },
    },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'chat-address' }, stringData: { address: hooks.url(secrets.alertPath) } },
  });
  await apps.createNamespacedDeployment({ namespace: ns, body: podinfoDeployment('podinfo', ns, 1) });
  for (const secret of ['prom-token', 'prom-basic']) {
    await create('metrictemplates', {
      apiVersion: 'flagger.app/v1beta1',
      kind: 'MetricTemplate',
      metadata: { name: secret },
      spec: {
        provider: { type: 'prometheus', address: 'http://unused.invalid', secretRef: { name: secret } },
        query: 'vector(1)',
      },
    });
  }
  await create('alertproviders', {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'AlertProvider',
    metadata: { name: 'chat' },
    spec: { type: 'slack', secretRef: { name: 'chat-address' } },
  });
  await create(
    'canaries',
    canaryObject('podinfo', ns, {
      interval: '300ms',
      iterations: 2,
      metrics: ['prom-token', 'prom-basic'].map((name) => ({
        name,
        templateRef: { name },
        thresholdRange: { min: 0.5 },
      })),
      webhooks: [
        {
          name: 'announce',
          type: 'pre-rollout',
          url: hooks.url('/pre-rollout'),
          timeout: '5s',
          metadata: { ticket: secrets.webhookMetadata },
        },
      ],
      alerts: [{ name: 'chat', severity: 'info', providerRef: { name: 'chat' } }],
    }),
  );
}

test(
  'a rollout with Secret-backed providers and webhook metadata leaves none of them in the raw history',
  { timeout: 240_000 },
  async () => {
    const ns = await testNamespace('codec');
    const hooks = await startWebhookReceiver();
    const basic = `Basic ${Buffer.from(`${secrets.username}:${secrets.password}`).toString('base64')}`;
    const prometheus = await authenticatedPrometheus([`Bearer ${secrets.token}`, basic]);
    const tokenFile = join(dir, 'codec-token');
    writeFileSync(tokenFile, `${codecToken}\n`, { mode: 0o600 });
    const codecPort = await freeLocalPort();
    let worker: WorkerProcess | undefined;
    try {
      worker = await startWorkerProcess({
        namespace: ns.name,
        taskQueue: `codec-${ns.name}`,
        extraArgs: [
          '--payload-key-file',
          keyFile,
          '--codec-port',
          String(codecPort),
          '--codec-token-file',
          tokenFile,
          '--codec-cors-origins',
          endpoints.temporalUiUrl,
        ],
      });
      assert.match(worker.logs(), /"payloadEncryption":"AES-256-GCM","payloadKeyCurrent":"k2"/);
      assert.doesNotMatch(worker.logs(), new RegExp(currentKey.replace(/[+/=]/g, '\\$&')));

      await applyRollout(ns.name, hooks, prometheus.port);
      const phase = async () => String((await readCanaryStatus(ns.name, 'podinfo')).phase);
      await waitFor('the Canary to be Initialized', async () => (await phase()) === 'Initialized', 90_000);
      await kube().apps.patchNamespacedDeployment(
        {
          name: 'podinfo',
          namespace: ns.name,
          body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await waitFor(
        'the rollout to end',
        async () => ['Succeeded', 'Failed'].includes(await phase()),
        120_000,
      );
      assert.equal(
        await phase(),
        'Succeeded',
        JSON.stringify(await canaryEvents(ns.name, 'podinfo')) + worker.logs().slice(-3000),
      );
      // Every secret value was really used, so its absence below means something.
      assert.ok(
        prometheus.seen.some((s) => s.authorization === `Bearer ${secrets.token}`),
        'the Secret token reached Prometheus',
      );
      assert.ok(
        prometheus.seen.some((s) => s.authorization === basic),
        "the Secret address's basic auth reached Prometheus",
      );
      assert.ok(hooks.callsTo(secrets.alertPath).length > 0, 'the alert went to the Secret address');
      const announced = hooks.callsTo('/pre-rollout')[0]?.body as { metadata?: Record<string, string> };
      assert.equal(announced?.metadata?.ticket, secrets.webhookMetadata, 'the hook got its metadata');

      const runs: { workflowId: string; runId: string; type: string }[] = [];
      for await (const w of client.workflow.list({ query: `CutoverNamespace = '${ns.name}'` })) {
        runs.push({ workflowId: w.workflowId, runId: w.runId, type: w.type });
      }
      assert.ok(
        runs.some((r) => r.type === 'rolloutWorkflow'),
        JSON.stringify(runs),
      );
      let sealed = 0;
      let rolloutStart: JsonPayload | undefined;
      for (const run of runs) {
        const history = await rawHistory(run.workflowId, run.runId);
        const texts = textsIn(history);
        for (const [name, value] of Object.entries(secrets)) {
          const hit = texts.find((text) => text.includes(value));
          assert.equal(hit, undefined, `${name} appears in the raw history of ${run.workflowId}`);
        }
        for (const payload of payloadsIn(history)) {
          // Search attributes are indexed by the server, so they stay plain JSON by design.
          if (decoded(payload.metadata?.encoding ?? '') !== 'binary/encrypted') continue;
          assert.equal(decoded(payload.metadata?.['encryption-key-id'] ?? ''), 'k2');
          sealed++;
        }
        const events = (history as { events?: Record<string, { input?: { payloads?: JsonPayload[] } }>[] })
          .events;
        if (run.type === 'rolloutWorkflow') {
          rolloutStart = events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        }
      }
      assert.ok(sealed > 10, `payloads were sealed (${sealed})`);
      assert.ok(rolloutStart, 'the rollout has a start input');

      // The codec server opens that payload (the Canary spec, with the webhook metadata) for a holder
      // of the token, and for nobody else.
      const codec = `http://127.0.0.1:${codecPort}`;
      // The real `temporal` CLI, pointed at the codec endpoint with the token, reads the spec in clear.
      const rollout = runs.find((r) => r.type === 'rolloutWorkflow');
      const readable = await rawHistory(rollout?.workflowId ?? '', rollout?.runId ?? '', [
        '--codec-endpoint',
        codec,
        '--codec-auth',
        `Bearer ${codecToken}`,
      ]);
      assert.ok(
        textsIn(readable).some((text) => text.includes(secrets.webhookMetadata)),
        'temporal --codec-endpoint decodes the Canary spec',
      );
      const decode = (headers: Record<string, string>) =>
        fetch(`${codec}/${endpoints.temporalNamespace}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ payloads: [rolloutStart] }),
        });
      const opened = await decode({ authorization: `Bearer ${codecToken}` });
      assert.equal(opened.status, 200);
      const [plain] = ((await opened.json()) as { payloads: JsonPayload[] }).payloads;
      assert.equal(decoded(plain?.metadata?.encoding ?? ''), 'json/plain');
      assert.ok(decoded(plain?.data ?? '').includes(secrets.webhookMetadata), 'the spec is inside');
      assert.equal((await decode({})).status, 401);
      assert.equal((await decode({ authorization: 'Bearer not-the-token-at-all' })).status, 401);
      const preflight = await fetch(`${codec}/decode`, {
        method: 'OPTIONS',
        headers: { origin: endpoints.temporalUiUrl, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), endpoints.temporalUiUrl);
      assert.equal(
        (await decode({ authorization: `Bearer ${codecToken}`, origin: 'http://evil.example' })).status,
        403,
      );

      // The CLI with the key reads the rollout; without it, or with a ring that lacks k2, one line.
      const noKeyEnv = { CUTOVER_PAYLOAD_KEYS: undefined, CUTOVER_PAYLOAD_KEYS_FILE: undefined };
      const withKey = ['--payload-key-file', keyFile];
      const status = await runCutover(['status', `${ns.name}/podinfo`, ...withKey], noKeyEnv);
      assert.equal(status.code, 0, status.stderr);
      const history = await runCutover(['history', `${ns.name}/podinfo`, ...withKey], noKeyEnv);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout, /promoted/);
      const rolloutId = rollout?.workflowId ?? '';
      const steps = await runCutover(
        ['history', `${ns.name}/podinfo`, '--rollout', rolloutId, ...withKey],
        noKeyEnv,
      );
      assert.equal(steps.code, 0, steps.stderr);
      assert.match(steps.stdout, /prom-basic/);
      assert.doesNotMatch(steps.stdout, /undecodable/);

      const keyless = await runCutover(['history', `${ns.name}/podinfo`, '--rollout', rolloutId], noKeyEnv);
      assert.equal(keyless.code, 9, keyless.stdout + keyless.stderr);
      assert.match(
        keyless.stderr,
        /^cutover: payload sealed with key "k2", but no payload key is configured: .*--payload-key-file/,
      );
      assert.equal(keyless.stderr.trim().split('\n').length, 1, keyless.stderr);
      const oldRing = join(dir, 'old-ring');
      writeFileSync(oldRing, `k1=${retiredKey}\n`, { mode: 0o600 });
      const wrongKey = await runCutover(
        ['history', `${ns.name}/podinfo`, '--rollout', rolloutId, '--payload-key-file', oldRing],
        noKeyEnv,
      );
      assert.equal(wrongKey.code, 9, wrongKey.stdout + wrongKey.stderr);
      assert.match(
        wrongKey.stderr,
        /^cutover: payload sealed with key "k2", which this key ring does not hold \(it holds k1\)/,
      );
    } finally {
      await worker?.stop();
      await prometheus.close();
      await hooks.close();
      await ns.remove();
    }
  },
);
