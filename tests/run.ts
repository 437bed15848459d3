import { spawnSync } from 'node:child_process';
import { stackDown, stackUp } from '../infra/local/stack';
import { setup } from '../infra/local/setup';

/**
 * `npm test`: installs the pinned servers and the sandbox if missing, starts the embedded stack if it is not
 * running, runs every test file with node's test runner (one file at a time: several share the
 * stack and the machine's cores), and stops what it started. Extra arguments go to `node --test`.
 */
async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  setup();
  const info = await stackUp((line) => console.log(line));
  console.log(`stack: Temporal ${info.temporalAddress}, S3 ${info.s3Endpoint}${info.started.length ? ` (started ${info.started.join(', ')} in ${info.coldStartMs} ms)` : ''}`);
  try {
    const args = process.argv.slice(2);
    const targets = args.some((a) => !a.startsWith('-')) ? [] : [__dirname];
    // A test that hangs (a task no worker polls, say) fails after 10 minutes instead of eating CI's budget.
    const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...args, ...targets], {
      stdio: 'inherit',
      env: process.env,
    });
    return run.status ?? 1;
  } finally {
    if (info.started.length) await stackDown(info.started);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
