// A browser check of Temporal UI: after a real rollout, a person who opens the UI finds it listed by its
// search attributes and reads its steps in the history. Screenshots stay in test-artifacts/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { temporalUiLink } from '../../client/format.ts';
import { rolloutWorkflowId } from '../../client/workflow-ids.ts';
import {
  launchChromium,
  loopbackOnly,
  openUntilShown,
  screenshot,
  waitForTexts,
} from '../support/browser.ts';
import { endpoints } from '../support/cluster.ts';
import { setupScenario } from '../support/scenario.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';
import type { WebhookReceiver } from '../support/webhook-receiver.ts';
import { startTestWorker } from '../support/worker.ts';
import type { TestWorker } from '../support/worker.ts';

let worker: TestWorker;
let hooks: WebhookReceiver;

before(async () => {
  worker = await startTestWorker('temporal-ui');
  hooks = await startWebhookReceiver();
});
after(async () => {
  await hooks.close();
  await worker.stop();
});

/** A screenshot of a rendered page is tens of kilobytes; a blank page is a few. */
const minScreenshotBytes = 20_000;

test(
  'Temporal UI lists a promoted rollout by its search attributes and its history shows the steps',
  {
    timeout: 150_000,
  },
  async (t) => {
    const scenario = await setupScenario(worker, 'ui', {
      interval: '1s',
      iterations: 3,
      threshold: 1,
      webhooks: [{ name: 'load-test', type: 'rollout', url: hooks.url('/load'), timeout: '5s' }],
    });
    const ns = scenario.namespace;
    let browser: Browser | undefined;
    try {
      const revision = await scenario.changeTarget(['--ui-message=v2']);
      const handle = await scenario.startRollout();
      const result = await handle.result();
      assert.equal(result.outcome, 'promoted', result.reason);
      const workflowId = rolloutWorkflowId(ns, 'podinfo', scenario.uid, revision);
      assert.equal(handle.workflowId, workflowId);
      const { runId } = await handle.describe();

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await loopbackOnly(page);
      const ui = endpoints.temporalUiUrl;
      const temporalNs = endpoints.temporalNamespace;

      // The workflows list filtered by the search attributes, as `?query=` with a visibility query.
      const query = `CutoverCanary="podinfo" AND CutoverNamespace="${ns}"`;
      const listUrl = `${ui}/namespaces/${encodeURIComponent(temporalNs)}/workflows?query=${encodeURIComponent(query)}`;
      await openUntilShown(page, listUrl, [workflowId, 'rolloutWorkflow', 'Completed'], 40_000);
      // The UI parsed the query into its filter chips rather than ignoring it.
      await waitForTexts(page, ['CutoverCanary', 'CutoverNamespace', `"${ns}"`], 10_000);
      await page.getByRole('link', { name: workflowId, exact: true }).waitFor({ timeout: 10_000 });
      const list = await screenshot(page, 'temporal-ui-workflows');

      // The workflow's search attributes, as its page shows them.
      const run = temporalUiLink(ui, temporalNs, workflowId, runId);
      await openUntilShown(
        page,
        `${run}/search-attributes`,
        [
          '"CutoverCanary": "podinfo"',
          `"CutoverNamespace": "${ns}"`,
          `"CutoverRevision": "${revision}"`,
          '"CutoverPhase": "Succeeded"',
          '"CutoverOutcome": "promoted"',
        ],
        30_000,
      );

      // The history: each step is an activity, a local activity's marker or a timer; the run ends completed.
      await openUntilShown(
        page,
        `${run}/history`,
        [
          workflowId,
          'Event History',
          'scaleUpCanary',
          'waitForDeploymentReady',
          'promoteCanary',
          'completePromotion',
          // Analysis ticks and reports are local activities: one marker each.
          'Marker Recorded',
          'Timer Started',
          'Timer Fired',
          'Workflow Execution Completed',
        ],
        30_000,
      );
      const history = await screenshot(page, 'temporal-ui-history', 2_600);

      for (const shot of [list, history]) {
        t.diagnostic(`${shot.path}: ${shot.bytes} bytes`);
        assert.ok(shot.bytes > minScreenshotBytes, `${shot.path} is only ${shot.bytes} bytes`);
      }
    } finally {
      await browser?.close();
      await scenario.remove();
    }
  },
);
