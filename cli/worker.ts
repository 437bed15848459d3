import { connectWorker } from '../infra/temporal-connection';
import { temporalEnv } from '../schemas/environment';
import { workerConfig, type WorkerFlags } from '../workers/config';
import { installRuntime } from '../workers/runtime';
import { createWorkers, runWorkers } from '../workers/worker';

/**
 * `r1 worker`: serves the task queues of its roles with its own hardware until SIGTERM (or
 * SIGINT), each setting from its flag or else its environment variable (workers/config.ts).
 */
export async function runWorker(flags: WorkerFlags, unreachable: (err: unknown) => Error): Promise<number> {
  const config = workerConfig(flags);
  installRuntime('INFO');
  const connection = await connectWorker(temporalEnv()).catch((err: unknown) => {
    throw unreachable(err);
  });
  const group = await createWorkers({ connection, roles: config.roles, device: config.device });
  const device = config.device.kind === 'cpu' ? `cpu, ${config.device.threads ?? "onnxruntime's default"} intra-op threads` : `cuda:${config.device.deviceId ?? 0}`;
  console.log(`worker (${device}) serving ${group.workers.map((w) => w.options.taskQueue).join(', ')}`);
  await runWorkers(group);
  return 0;
}
