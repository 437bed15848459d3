import { connectWorker } from '../infra/temporal-connection';
import { temporalEnv } from '../schemas/environment';
import { workerConfig, type WorkerFlags } from '../workers/config';
import { freeLocalPort, serveMetrics, WorkerMetrics } from '../workers/metrics';
import { installRuntime } from '../workers/runtime';
import { createWorkers, runWorkers } from '../workers/worker';

/**
 * `r1 worker`: serves the task queues of its roles with its own hardware until SIGTERM (or
 * SIGINT), each setting from its flag or else its environment variable (workers/config.ts); with
 * a metrics port, serves Prometheus metrics there at /metrics (the SDK's and ours).
 */
export async function runWorker(flags: WorkerFlags, unreachable: (err: unknown) => Error): Promise<number> {
  const config = workerConfig(flags);
  const sdkMetrics = config.metricsPort === undefined ? undefined : `127.0.0.1:${await freeLocalPort()}`;
  installRuntime('INFO', { metricsAddress: sdkMetrics, logFormat: config.logFormat });
  const metrics = sdkMetrics ? new WorkerMetrics() : undefined;
  const server = metrics && sdkMetrics ? await serveMetrics(metrics, config.metricsPort!, sdkMetrics) : undefined;
  const connection = await connectWorker(temporalEnv()).catch((err: unknown) => {
    throw unreachable(err);
  });
  const group = await createWorkers({ connection, roles: config.roles, device: config.device, metrics });
  const device = config.device.kind === 'cpu' ? `cpu, ${config.device.threads ?? "onnxruntime's default"} intra-op threads` : `cuda:${config.device.deviceId ?? 0}`;
  console.log(`worker (${device}) serving ${group.workers.map((w) => w.options.taskQueue).join(', ')}${server ? `; metrics on :${config.metricsPort}/metrics` : ''}`);
  try {
    await runWorkers(group);
  } finally {
    server?.close();
  }
  return 0;
}
