import './stack';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { connectClient, connectWorker } from '../../infra/temporal-connection';
import { createWorkers, runWorkers } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import { temporalEnv } from '../../schemas/environment';
import type { QueueRole } from '../../workflows/task-queues';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  installRuntime('WARN');
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
  return bundle;
}

export async function testClient(): Promise<Client> {
  return new Client({ connection: await connectClient(), namespace: temporalEnv().namespace });
}

/** Runs real workers for the given queues while `fn` runs, then shuts them down. */
export async function withWorkers<T>(roles: QueueRole[], fn: () => Promise<T>): Promise<T> {
  installRuntime('WARN');
  const group = await createWorkers({ connection: await connectWorker(), roles, workflowBundle: await workflowBundle() });
  const running = runWorkers(group);
  try {
    return await fn();
  } finally {
    group.shutdown();
    await running;
  }
}
