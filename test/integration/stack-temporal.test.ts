import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { endpoints } from '../support/cluster.ts';
import { cutoverSearchAttributes } from '../../workflows/search-attributes.ts';

test('a TypeScript worker runs a workflow with an activity and a timer on the Temporal dev server', async () => {
  const taskQueue = `smoke-${process.pid}-${Date.now()}`;
  const nativeConnection = await NativeConnection.connect({ address: endpoints.temporalAddress });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: endpoints.temporalNamespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/smoke-workflow.ts', import.meta.url)),
    activities: {
      describeHost: async ({ caller }: { caller: string }) => `hello ${caller} from a real worker`,
    },
  });
  const connection = await Connection.connect({ address: endpoints.temporalAddress });
  const client = new Client({ connection, namespace: endpoints.temporalNamespace });
  try {
    const result = await worker.runUntil(
      client.workflow.execute('smokeWorkflow', {
        taskQueue,
        workflowId: taskQueue,
        args: [{ caller: 'stack test', sleepMs: 200 }],
      }),
    );
    assert.equal(result, 'hello stack test from a real worker');
    const history = await client.workflow.getHandle(taskQueue).fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    assert.ok(types.length > 5, 'the workflow has a real event history');
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});

test('the dev server knows the search attributes Cutover keeps current', async () => {
  const connection = await Connection.connect({ address: endpoints.temporalAddress });
  try {
    const response = await connection.operatorService.listSearchAttributes({
      namespace: endpoints.temporalNamespace,
    });
    for (const name of Object.keys(cutoverSearchAttributes)) {
      assert.ok(response.customAttributes?.[name] !== undefined, `search attribute ${name} is registered`);
    }
  } finally {
    await connection.close();
  }
});
