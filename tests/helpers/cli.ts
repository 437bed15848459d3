import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled `r1` command in its own process, as a user would. Asynchronous on purpose:
 * the test's in-process workers must keep running while the command waits on them.
 */
export function r1(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '..', '..', 'cli', 'r1.js'), ...args], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
