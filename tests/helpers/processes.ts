import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * A worker in its own OS process (`r1 worker --queues ...`), as production runs them, so that a
 * test can SIGKILL it. Its output goes to a log file named in failures.
 */
export interface WorkerProcess {
  child: ChildProcess;
  log: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startWorkerProcess(queues: string, flags: string[] = []): WorkerProcess {
  const log = join(tmpdir(), `r1-worker-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.log`);
  const out = openSync(log, 'a');
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), 'worker', '--queues', queues, ...flags], {
    stdio: ['ignore', out, out],
    env: process.env,
  });
  return {
    child,
    log,
    kill: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
