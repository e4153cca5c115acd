// A corpus of malformed and hostile objects applied next to one healthy rollout, on the real stack
// with the real `cutover worker`: each bad object must carry a message (a status condition or a
// Warning event) within a bound, and the healthy rollout must promote on time. Objects the API server
// refuses on apply count as answered (the user sees the refusal). Prints which objects got what.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../stack/tools.ts';
import { kube, podinfoDeployment, testNamespace } from '../support/cluster.ts';
import { canaryObject, ensureCrds } from '../support/canaries.ts';
import { startWorkerProcess } from '../support/worker-process.ts';
import type { WorkerProcess } from '../support/worker-process.ts';
import { badInputCorpus } from './support/bad-input-corpus.ts';
import type { CorpusEntry, SubjectKind } from './support/bad-input-corpus.ts';
import { knownGaps } from './support/known-gaps.ts';

/** How long an object may go without a message, from its apply (or its target's release). */
const messageBoundMs = 45_000;
/** The healthy rollout (1 s interval, 3 iterations) promotes this soon after its release. */
const healthyBoundMs = 60_000;

interface Answer {
  /** When the bound started: the apply, or the release of the entry's target. */
  from: number;
  refused?: string;
  message?: string;
  seconds?: number;
  /** The entry's target got its new revision (its Canary was initialized in time). */
  released?: boolean;
  /** The subject Canary's phase when the corpus ended. */
  phase?: string;
}

const answers = new Map<string, Answer>();
let healthySeconds: number | undefined;
let healthyPhase = '';
let namespace = '';
let removeNamespace: () => Promise<void> = async () => undefined;
let worker: WorkerProcess | undefined;
let entries: CorpusEntry[] = [];

const plural: Record<SubjectKind, { group: string; version: string; plural: string }> = {
  Canary: { group: 'flagger.app', version: 'v1beta1', plural: 'canaries' },
  MetricTemplate: { group: 'flagger.app', version: 'v1beta1', plural: 'metrictemplates' },
  AlertProvider: { group: 'flagger.app', version: 'v1beta1', plural: 'alertproviders' },
  RolloutPolicy: { group: 'cutover.dev', version: 'v1alpha1', plural: 'rolloutpolicies' },
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const errorText = (error: unknown): string => {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return String((JSON.parse(body) as { message?: string }).message ?? body);
    } catch {
      return body;
    }
  }
  return error instanceof Error ? error.message : String(error);
};

interface Stored {
  metadata?: { name?: string };
  status?: { phase?: string; message?: string; conditions?: { status?: string; message?: string }[] };
}

/** The messages each object of the namespace carries now: Warning events and False conditions. */
async function messagesNow(): Promise<Map<string, string>> {
  const { config, core } = kube();
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const found = new Map<string, string>();
  const events = await core.listNamespacedEvent({ namespace });
  for (const e of events.items) {
    const key = `${e.involvedObject.kind}/${e.involvedObject.name}`;
    if (e.type === 'Warning' && e.message && !found.has(key)) found.set(key, e.message);
  }
  for (const kind of Object.keys(plural) as SubjectKind[]) {
    const list = (await custom.listNamespacedCustomObject({ ...plural[kind], namespace })) as {
      items: Stored[];
    };
    for (const item of list.items) {
      const key = `${kind}/${item.metadata?.name}`;
      const condition = item.status?.conditions?.find((c) => c.status === 'False' && c.message);
      if (!found.has(key) && condition?.message) found.set(key, condition.message);
    }
  }
  return found;
}

async function canaryPhase(name: string): Promise<string> {
  const custom = kube().config.makeApiClient(k8s.CustomObjectsApi);
  const object = (await custom
    .getNamespacedCustomObject({ ...plural.Canary, namespace, name })
    .catch(() => ({}))) as Stored;
  return object.status?.phase ?? '';
}

async function release(name: string, message: string): Promise<void> {
  await kube().apps.patchNamespacedDeployment(
    {
      name,
      namespace,
      body: { spec: { template: { metadata: { annotations: { 'faults.cutover.dev/release': message } } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

describe('bad input next to a healthy rollout', () => {
  before(async () => {
    await ensureCrds();
    const ns = await testNamespace('faults-bad-input');
    namespace = ns.name;
    removeNamespace = ns.remove;
    worker = await startWorkerProcess({ namespace, taskQueue: `faults-${namespace}` });
    const objects = k8s.KubernetesObjectApi.makeApiClient(kube().config);
    await kube().apps.createNamespacedDeployment({
      namespace,
      body: podinfoDeployment('healthy', namespace, 1),
    });
    await objects.create(
      canaryObject('healthy', namespace, { interval: '1s', iterations: 3 }) as k8s.KubernetesObject,
    );

    const corpus = badInputCorpus(namespace);
    entries = corpus.entries;
    for (const object of corpus.shared) await objects.create(object);
    for (const entry of entries) {
      const answer: Answer = { from: Date.now() };
      answers.set(entry.name, answer);
      for (const object of entry.objects) {
        try {
          await objects.create(object);
        } catch (error) {
          if (object.kind === entry.subject.kind && object.metadata?.name === entry.subject.name) {
            answer.refused = errorText(error).slice(0, 300);
            answer.seconds = (Date.now() - answer.from) / 1000;
          }
          // A Deployment or a template refused is part of the entry's fault; go on with the rest.
        }
      }
    }

    // Rollout-time faults: a new revision once their Canary is initialized (a stuck one never is).
    const released = Promise.all(
      entries
        .filter((e) => e.release)
        .map(async (e) => {
          const deadline = Date.now() + 90_000;
          while (Date.now() < deadline) {
            if ((await canaryPhase(e.name)) === 'Initialized') {
              await release(e.release as string, 'v2');
              const answer = answers.get(e.name) as Answer;
              answer.from = Date.now();
              answer.released = true;
              return;
            }
            await sleep(500);
          }
        }),
    );
    const healthy = (async () => {
      const deadline = Date.now() + 90_000;
      while ((await canaryPhase('healthy')) !== 'Initialized' && Date.now() < deadline) await sleep(250);
      await release('healthy', 'v2');
      const releasedAt = Date.now();
      while (Date.now() < releasedAt + healthyBoundMs + 30_000) {
        healthyPhase = await canaryPhase('healthy');
        if (healthyPhase === 'Succeeded' || healthyPhase === 'Failed') break;
        await sleep(250);
      }
      if (healthyPhase === 'Succeeded') healthySeconds = (Date.now() - releasedAt) / 1000;
    })();

    // Collect messages until every entry has one or its bound passed.
    const watching = (async () => {
      for (;;) {
        const now = Date.now();
        const messages = await messagesNow().catch(() => new Map<string, string>());
        let waiting = 0;
        for (const entry of entries) {
          const answer = answers.get(entry.name) as Answer;
          if (answer.refused || answer.message) continue;
          const message = [entry.subject.name, ...(entry.subject.or ?? [])]
            .map((name) => messages.get(`${entry.subject.kind}/${name}`))
            .find((m) => m !== undefined);
          if (message) {
            answer.message = message.slice(0, 300);
            answer.seconds = (now - answer.from) / 1000;
          } else if (now - answer.from < messageBoundMs) waiting++;
        }
        if (waiting === 0 && now - Math.max(...[...answers.values()].map((a) => a.from)) > 5_000) return;
        await sleep(1_000);
      }
    })();
    await Promise.all([released, healthy, watching]);
    for (const entry of entries) {
      if (entry.subject.kind === 'Canary')
        (answers.get(entry.name) as Answer).phase = await canaryPhase(entry.name);
    }
  });

  after(async () => {
    const rows = entries.map((e) => {
      const a = answers.get(e.name);
      const what = a?.refused ? `refused on apply: ${a.refused}` : a?.message ? a.message : 'NO MESSAGE';
      const late = a?.seconds !== undefined && a.seconds * 1000 > messageBoundMs;
      const state = `${a?.phase ?? ''}${e.release ? (a?.released ? ', released' : ', never initialized') : ''}`;
      return `| ${e.subject.kind}/${e.name} | ${e.fault} | ${state} | ${a?.seconds?.toFixed(1) ?? '—'}${late ? ' (late)' : ''} | ${what.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 160)} |`;
    });
    const silent = entries.filter((e) => !answers.get(e.name)?.refused && !answers.get(e.name)?.message);
    const table = [
      `healthy rollout: ${healthySeconds === undefined ? `not promoted (${healthyPhase})` : `promoted ${healthySeconds.toFixed(1)} s after its release`}`,
      `${entries.length} bad objects, ${entries.length - silent.length} answered, ${silent.length} without a message: ${silent.map((e) => e.name).join(', ') || 'none'}`,
      '',
      '| object | fault | phase at the end | s | message |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
    if (entries.length > 0) {
      const dir = join(repoRoot, 'test-artifacts', 'faults');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'bad-input.md'), `${table}\n`);
      // What the worker logged about the silent ones: where their reason went instead.
      const logs = (worker?.logs() ?? '').split('\n');
      const said = silent.map(
        (e) =>
          `--- ${e.name}\n${logs
            .filter((l) => l.includes(`"${e.name}"`) || l.includes(`/${e.name}`))
            .slice(-8)
            .map((l) => l.slice(0, 600))
            .join('\n')}`,
      );
      writeFileSync(join(dir, 'bad-input-worker.log'), `${said.join('\n')}\n`);
      process.stdout.write(`\nbad-input corpus (also in test-artifacts/faults/bad-input.md):\n${table}\n`);
    }
    if (namespace && !answers.size) process.stderr.write(worker?.logs().slice(-4000) ?? '');
    await worker?.stop();
    await removeNamespace();
  });

  test('the corpus holds at least 40 bad objects of every kind', () => {
    assert.ok(entries.length >= 40, `${entries.length} entries`);
    for (const kind of ['Canary', 'MetricTemplate', 'AlertProvider', 'RolloutPolicy'])
      assert.ok(
        entries.some((e) => e.objects.some((o) => o.kind === kind)),
        `a ${kind} in the corpus`,
      );
  });

  test('the healthy rollout next to them promotes on time (ci)', () => {
    assert.equal(healthyPhase, 'Succeeded');
    assert.ok(
      healthySeconds !== undefined && healthySeconds * 1000 <= healthyBoundMs,
      `promoted ${healthySeconds} s after its release`,
    );
  });

  for (const entry of badInputCorpus('corpus').entries) {
    const gap = knownGaps[entry.name];
    test(
      `${entry.subject.kind} ${entry.name} (${entry.fault}) gets a message on itself (ci)`,
      gap ? { todo: gap } : {},
      () => {
        const answer = answers.get(entry.name);
        assert.ok(answer, 'applied');
        assert.ok(
          answer.refused || answer.message,
          `no status condition or Warning event on ${entry.subject.kind}/${entry.name}`,
        );
        assert.ok((answer.seconds ?? Infinity) * 1000 <= messageBoundMs, `message after ${answer.seconds} s`);
      },
    );
  }
});
