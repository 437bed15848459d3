import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Sets the Temporal SDK's log level once per process; must run before any worker connects. The
 * runtime does not stop workers on signals itself: runWorkers does, so that trainers hand their
 * phases over first.
 */
export function installRuntime(level: LogLevel = 'INFO'): void {
  if (installed) return;
  Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: [] });
  installed = true;
}
