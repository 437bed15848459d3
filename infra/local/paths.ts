import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The project root: the nearest folder above this compiled file that holds package.json. */
function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${from}`);
}

export const projectRoot = findRoot(__dirname);

/** Everything the embedded stack keeps on disk (tools, data, logs, pids); git-ignored. */
export const r1Home = process.env.R1_HOME ? resolve(process.env.R1_HOME) : resolve(projectRoot, '.r1');

export const paths = {
  tools: resolve(r1Home, 'tools'),
  data: resolve(r1Home, 'data'),
  logs: resolve(r1Home, 'logs'),
  stackState: resolve(r1Home, 'stack.json'),
};
