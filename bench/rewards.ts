/**
 * `npm run bench:rewards`: how fast the rewards verify. Prints figures, asserts nothing.
 *
 * - accuracy verifications/s (answer extraction + math equivalence, one event-loop thread) for
 *   numeric answers, LaTeX fractions and symbolic expressions. Goals: numeric >= 50,000/s,
 *   symbolic >= 1,000/s. Symbolic pairs are generated afresh for every verification (new
 *   coefficients each time), so that no cache keyed on the text can help; the 'group' row keeps
 *   each gold for 8 new answers, as a GRPO group does (a cache of parsed golds may help there).
 *   Also printed: verifications per CPU-second of the whole process (the CAS thread and V8's
 *   helper threads included), steadier than wall time on a busy machine.
 * - sandboxed programs/s through the code reward at its default concurrency (the number of CPUs).
 * - the sandbox's added latency over a bare `python3 -c pass` start. Goal: < 100 ms per program.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { SandboxLimitsSchema } from '../schemas/rewards';
import { accuracyReward } from '../rewards/accuracy';
import { codeReward } from '../rewards/code';
import { warmUpCas } from '../rewards/math-equivalence';
import { runInSandbox, sandboxAvailable } from '../rewards/sandbox';

const CASES: Record<string, Array<[answer: string, gold: string]>> = {
  numeric: [['42', '42'], ['3.50', '3.5'], ['-17', '-17.0'], ['1,000', '1000'], ['0.125', '0.125'], ['7', '8']],
  'latex fraction': [['\\frac{1}{2}', '0.5'], ['\\dfrac{3}{4}', '\\frac{6}{8}'], ['-\\frac{2}{3}', '\\frac{-2}{3}'], ['\\frac{1}{3}', '0.333']],
};

/** Six symbolic pairs (five equal, one not) whose coefficients grow with `k`: new text for every k. */
function symbolicCases(k: number): Array<[string, string]> {
  const [a, b] = [k + 2, (k % 89) + 2];
  return [
    [`(x+${a})^2`, `x^2+${2 * a}x+${a * a}`],
    [`${a}\\sqrt{${b}}`, `\\sqrt{${a * a * b}}`],
    [`\\sin^2 x + \\cos^2 x + ${a}`, `${a + 1}`],
    [`${a}\\pi r`, `r${a}\\pi`],
    [`(x-${a})(x+${a})`, `x^2-${a * a}`],
    [`x+${a}`, `x+${a + 1}`],
  ];
}

/**
 * A GRPO group: the golds of `symbolicCases(group)` for 8 answers in a row, each answer made new
 * text by a term that adds nothing (`+ k - k`), so that the verdicts stay those of the group.
 */
function groupCases(k: number): Array<[string, string]> {
  const group = 1_000_000 + Math.floor(k / 8);
  return symbolicCases(group).map(([answer, gold]) => [`${answer} + ${k} - ${k}`, gold]);
}

/**
 * Runs `batch()` for a second and prints verifications per second, after a warm-up on other text
 * (3,000 verifications, at most 8 s) so that the figure is the steady state of a long-running
 * worker: the Compute Engine's code takes a few thousand comparisons to be JIT-compiled, and
 * runs several times slower until then. The warm-up's own rate is printed too.
 */
function benchAccuracy(name: string, batch: () => Array<[string, string]>): void {
  const verify = (cases: Array<[string, string]>) =>
    cases.reduce((sum, [answer, gold]) => sum + accuracyReward(`<think>work</think><answer>${answer}</answer>`, gold).value, 0);
  const warmUp = performance.now();
  let warmUpRuns = 0;
  while (warmUpRuns < 3000 && performance.now() - warmUp < 8000) {
    const cases = batch();
    verify(cases);
    warmUpRuns += cases.length;
  }
  const warmUpRate = warmUpRuns / ((performance.now() - warmUp) / 1000);
  let runs = 0;
  let equal = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < 1000) {
    const cases = batch();
    equal += verify(cases);
    runs += cases.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const perCpuSecond = runs / ((used.user + used.system) / 1e6);
  const fmt = (x: number) => Math.round(x).toLocaleString('en').padStart(9);
  console.log(
    `accuracy, ${name.padEnd(16)} ${fmt(runs / seconds)} verifications/s  (${fmt(perCpuSecond).trim()} per CPU-second; ` +
      `${equal}/${runs} judged equal; warm-up ${warmUpRuns.toLocaleString('en')} at ${fmt(warmUpRate).trim()}/s)`,
  );
}

function spawnMs(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    spawn(command, args, { stdio: 'ignore' }).on('error', reject).on('close', () => resolve(performance.now() - started));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchSandbox(): Promise<void> {
  const available = await sandboxAvailable();
  if (!available.ok) return void console.log(`sandbox: unavailable (${available.reason})`);
  const limits = SandboxLimitsSchema.parse({});

  const programs = 40;
  const tests = Array.from({ length: programs }, (_, i) => ({ input: `${i}\n`, output: `${i * 2}\n` }));
  const started = performance.now();
  const { value } = await codeReward('```python\nprint(int(input()) * 2)\n```', tests, { language: 'python', limits });
  const seconds = (performance.now() - started) / 1000;
  console.log(`sandbox, python       ${(programs / seconds).toFixed(1).padStart(9)} programs/s at concurrency ${availableParallelism()} (${value * programs}/${programs} passed)`);

  const bare: number[] = [];
  const boxed: number[] = [];
  for (let i = 0; i < 20; i++) {
    bare.push(await spawnMs('/usr/bin/python3', ['-I', '-B', '-c', 'pass']));
    boxed.push((await runInSandbox('python', 'pass', '', limits)).wallMs);
  }
  const overhead = median(boxed) - median(bare);
  console.log(`sandbox, overhead     ${overhead.toFixed(1).padStart(9)} ms per program (median ${median(boxed).toFixed(1)} ms sandboxed vs ${median(bare).toFixed(1)} ms bare python3 -c pass)`);
}

async function main(): Promise<void> {
  warmUpCas();
  for (const [name, cases] of Object.entries(CASES)) benchAccuracy(name, () => cases);
  let k = 0;
  benchAccuracy('symbolic, unseen', () => symbolicCases(k++));
  benchAccuracy('symbolic, group', () => groupCases(k++));
  await benchSandbox();
}

main().then(
  () => process.exit(0), // the CAS thread would keep the process alive
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
