import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { SandboxLimitsSchema, type CodeLanguage, type CodeTest } from '../../schemas/rewards';
import { codeReward } from '../../rewards/code';
import { sandboxAvailable } from '../../rewards/sandbox';

const limits = SandboxLimitsSchema.parse({ cpuSeconds: 1, wallMs: 3000 });
const echoTest: CodeTest[] = [{ input: '', output: 'done' }];

function score(program: string, tests: CodeTest[] = echoTest, language: CodeLanguage = 'python') {
  const fence = language === 'python' ? 'python' : 'js';
  return codeReward(`<think>...</think>\n\`\`\`${fence}\n${program}\n\`\`\``, tests, { language, limits, concurrency: 4 });
}

/** The host still answers quickly: a timer fires on time and a process starts. */
async function assertHostResponsive() {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(Date.now() - start < 500, 'event loop stalled');
  assert.equal(execFileSync('echo', ['alive']).toString().trim(), 'alive');
}

/** No sandboxed process outlives its run (they run as nobody when the tests run as root). */
function assertNoLeftovers() {
  if (process.getuid?.() !== 0) return;
  // ps exits 1 when it finds no process: that is the good case.
  const ps = spawnSync('ps', ['-u', '65534', '-o', 'pid=,stat=,comm='], { encoding: 'utf8' }).stdout.trim();
  assert.equal(ps, '', `sandbox processes left behind:\n${ps}`);
}

before(async () => {
  const available = await sandboxAvailable();
  assert.ok(available.ok, `sandbox unavailable: ${available.reason}`);
});

const sumTests: CodeTest[] = [
  { input: '1 2\n', output: '3\n' },
  { input: '10 -4\n', output: '6' },
  { input: '0 0\n', output: '0\n' },
];

test('a correct python program passes all its tests', async () => {
  const r = await score('a, b = map(int, input().split())\nprint(a + b)', sumTests);
  assert.equal(r.value, 1, r.reason);
});

test('partial credit per passing test', async () => {
  const r = await score('a, b = map(int, input().split())\nprint(a + b if a else 99)', sumTests);
  assert.equal(r.value, 2 / 3, r.reason);
  assert.match(r.reason, /2\/3 tests passed; test 3: wrong output/);
});

test('javascript runs too', async () => {
  const program = "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);";
  const r = await score(program, sumTests, 'javascript');
  assert.equal(r.value, 1, r.reason);
});

test('a response without code scores 0', async () => {
  const r = await codeReward('<think>hmm</think> I cannot.', sumTests, { language: 'python', limits });
  assert.equal(r.value, 0);
});

test('an infinite loop is stopped', async () => {
  const started = Date.now();
  const r = await score('while True:\n    pass\nprint("done")');
  assert.equal(r.value, 0);
  assert.match(r.reason, /killed|wall time/);
  assert.ok(Date.now() - started < limits.wallMs + 2000);
  assertNoLeftovers();
});

test('a program that sleeps is stopped at the wall-time limit', async () => {
  const started = Date.now();
  const r = await codeReward('```python\nimport time\ntime.sleep(60)\nprint("done")\n```', echoTest, {
    language: 'python',
    limits: { ...limits, wallMs: 500 },
  });
  assert.equal(r.value, 0);
  assert.match(r.reason, /wall time exceeded/);
  assert.ok(Date.now() - started < 2000);
  assertNoLeftovers();
});

test('a javascript infinite loop is stopped', async () => {
  const r = await score('for (;;) {}\nconsole.log("done")', echoTest, 'javascript');
  assert.equal(r.value, 0);
  assertNoLeftovers();
});

test('a fork bomb is stopped and the host is unaffected', async () => {
  const program = [
    'import os, time',
    'n = 0',
    'while n < 5000:',
    '    if os.fork() == 0:',
    '        time.sleep(30)',
    '        os._exit(0)',
    '    n += 1',
    'print("done")',
  ].join('\n');
  const r = await score(program);
  assert.equal(r.value, 0);
  assert.match(r.reason, /Resource temporarily unavailable|BlockingIOError/);
  await assertHostResponsive();
  assertNoLeftovers();
});

test('a 4 GB allocation is refused', async () => {
  const r = await score('b = bytearray(4 * 1024**3)\nprint("done")');
  assert.equal(r.value, 0);
  assert.match(r.reason, /MemoryError/);
  const js = await score('const b = Buffer.alloc(4 * 1024 ** 3, 1);\nconsole.log("done")', echoTest, 'javascript');
  assert.equal(js.value, 0);
});

test('no network: a socket to a host server never connects', async () => {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await score(
      `import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=1)\nprint("done")`,
    );
    assert.equal(r.value, 0);
    const external = await score('import socket\nsocket.create_connection(("1.1.1.1", 53), timeout=1)\nprint("done")');
    assert.equal(external.value, 0);
    assert.match(external.reason, /unreachable|Errno/);
  } finally {
    server.close();
  }
  assert.equal(connections, 0);
});

test('writes outside its directory fail and leave the host untouched', async () => {
  const hostDir = mkdtempSync(join(tmpdir(), 'r1-sandbox-'));
  const targets = [join(hostDir, 'escaped'), join(homedir(), `r1-sandbox-escaped-${process.pid}`), join(process.cwd(), 'escaped'), '/usr/escaped', '/escaped'];
  try {
    for (const target of targets) {
      const r = await score(`open(${JSON.stringify(target)}, "w").write("x")\nprint("done")`);
      assert.equal(r.value, 0, `${target}: ${r.reason}`);
      assert.equal(existsSync(target), false, target);
    }
    const mkdir = await score('import os\nos.makedirs("/home/someone/x")\nprint("done")');
    assert.equal(mkdir.value, 0, mkdir.reason);
    // Its own directory (and /tmp, the same private tmpfs) is writable.
    const own = await score('open("/sandbox/f", "w").write("x")\nopen("/tmp/g", "w").write("y")\nprint("done")');
    assert.equal(own.value, 1, own.reason);
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }
});

test("the user's home cannot be read", async () => {
  const secret = join(homedir(), `r1-sandbox-secret-${process.pid}`);
  writeFileSync(secret, 'hunter2\n');
  try {
    const r = await score(`print(open(${JSON.stringify(secret)}).read())`, [{ input: '', output: 'hunter2' }]);
    assert.equal(r.value, 0);
    assert.match(r.reason, /FileNotFoundError/);
  } finally {
    rmSync(secret, { force: true });
  }
});

test('output floods are cut at the output limit', async () => {
  const r = await score('while True:\n    print("x" * 1000)');
  assert.equal(r.value, 0);
  assert.match(r.reason, /output limit/);
});

test('sandboxAvailable says why when the sandbox tools are missing', () => {
  const script = `require(${JSON.stringify(require.resolve('../../rewards/sandbox'))}).sandboxAvailable().then((r) => console.log(JSON.stringify(r)))`;
  const child = spawnSync(process.execPath, ['-e', script], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  const result = JSON.parse(child.stdout);
  assert.equal(result.ok, false);
  assert.match(result.reason, /cannot start the sandbox.*ENOENT.*sandbox-setup\.sh/);
});

test('descriptors the host process inherited do not reach the program', () => {
  // A Node process that inherited fd 100 from its parent (as a worker may inherit a pipe or socket).
  const script = `
    const { runInSandbox } = require(${JSON.stringify(require.resolve('../../rewards/sandbox'))});
    const limits = ${JSON.stringify(limits)};
    runInSandbox('python', 'import os\\nprint(sorted(os.listdir("/proc/self/fd")))', '', limits).then((r) => console.log(r.stdout));`;
  const child = spawnSync('bash', ['-c', 'exec 100>/dev/null; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' });
  // fd 3 is the listing's own handle.
  assert.equal(child.stdout.trim(), "['0', '1', '2', '3']", child.stderr);
});

test('an aborted reward kills its running sandboxes and starts no more', async () => {
  const controller = new AbortController();
  const tests = Array.from({ length: 4 }, () => ({ input: '', output: 'done' }));
  // Each run would pass after a second: only the abort can make them fail.
  const reward = codeReward('```python\nimport time\ntime.sleep(1)\nprint("done")\n```', tests, { language: 'python', limits: { ...limits, wallMs: 60_000, cpuSeconds: 60 }, concurrency: 1, signal: controller.signal });
  setTimeout(() => controller.abort(), 300);
  const { value, reason } = await reward;
  assert.equal(value, 0);
  assert.match(reason, /^0\/4 tests passed; test 1: wall time exceeded$/);
  assertNoLeftovers();
});
