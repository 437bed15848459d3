import './stack';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { connectClient, connectWorker } from '../../infra/temporal-connection';
import { createWorkers, runWorkers } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import type { Device } from '../../schemas/device';
import { temporalEnv } from '../../schemas/environment';
import { workerConfig } from '../../workers/config';
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

/**
 * Runs real workers for the given queues while `fn` runs, then shuts them down. Their device is
 * the environment's (R1_WORKER_DEVICE, R1_WORKER_THREADS: one thread in tests, see stack.ts) unless given.
 */
export async function withWorkers<T>(roles: QueueRole[], fn: () => Promise<T>, device: Device = workerConfig({}).device): Promise<T> {
  installRuntime('WARN');
  const group = await createWorkers({ connection: await connectWorker(), roles, device, workflowBundle: await workflowBundle() });
  const running = runWorkers(group);
  try {
    return await fn();
  } finally {
    group.shutdown();
    await running;
  }
}
