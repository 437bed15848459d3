import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { LogFormat } from './config';

let installed = false;

/** One JSON object per line on stderr, for log collectors (Loki, CloudWatch, Elasticsearch...). */
function jsonLine({ level, message, timestampNanos, meta }: LogEntry): void {
  const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  process.stderr.write(`${JSON.stringify({ time, level, message, ...meta }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`);
}

/**
 * Sets the Temporal SDK's logger once per process (its level, and `json` for one object per line),
 * and with `metricsAddress` (host:port) has it export its worker metrics for Prometheus there
 * (workers/metrics.ts serves them with ours); must run before any worker connects. The runtime
 * does not stop workers on signals itself: runWorkers does, so that trainers hand their phases
 * over first.
 */
export function installRuntime(level: LogLevel = 'INFO', opts: { metricsAddress?: string; logFormat?: LogFormat } = {}): void {
  if (installed) return;
  const { metricsAddress, logFormat = 'text' } = opts;
  Runtime.install({
    logger: logFormat === 'json' ? new DefaultLogger(level, jsonLine) : new DefaultLogger(level),
    shutdownSignals: [],
    ...(metricsAddress && { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }),
  });
  installed = true;
}
