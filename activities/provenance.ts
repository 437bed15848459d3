import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { reproducibilityWarnings } from '../engine/environment';
import type { EngineEnvironment, ProducerEnvironment } from '../schemas/manifest';

/**
 * The environment recorded in every checkpoint's manifest: this process's code (package version,
 * git commit) and Node, the engine that made the weights (measured on its thread), and the hash
 * of the spec settings that made them.
 */
export function producerEnvironment(engine: EngineEnvironment | null, specHash: string | null | undefined): ProducerEnvironment {
  // Undefined in the inputs of workflows started before spec hashes were recorded: unknown, not an error.
  return { product: product(), node: process.version, engine, specHash: specHash ?? null, warnings: engine ? reproducibilityWarnings(engine) : [] };
}

/** The installed product: dist/activities/ is two folders below its root. */
const ROOT = join(__dirname, '..', '..');

let productOnce: ProducerEnvironment['product'] | undefined;

function product(): ProducerEnvironment['product'] {
  productOnce ??= { version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version, ...gitState() };
  return productOnce;
}

/**
 * The commit the product was built from, and whether tracked files differ from it. Unknown (null)
 * where git cannot tell: no git, no repository (a deployed image), or a repository that is not
 * this product's own (the product installed inside another project).
 */
function gitState(): { commit: string | null; modified: boolean | null } {
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(ROOT)) return { commit: null, modified: null };
    return { commit: git('rev-parse', 'HEAD'), modified: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return { commit: null, modified: null };
  }
}
