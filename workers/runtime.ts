import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Sets the Temporal SDK's log level once per process, and with `metricsAddress` (host:port) has
 * it export its worker metrics for Prometheus there (workers/metrics.ts serves them with ours);
 * must run before any worker connects. The runtime does not stop workers on signals itself:
 * runWorkers does, so that trainers hand their phases over first.
 */
export function installRuntime(level: LogLevel = 'INFO', metricsAddress?: string): void {
  if (installed) return;
  Runtime.install({
    logger: new DefaultLogger(level),
    shutdownSignals: [],
    ...(metricsAddress && { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }),
  });
  installed = true;
}
