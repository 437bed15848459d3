/**
 * `npm run bench:rewards`: how fast the rewards verify. Prints figures, asserts nothing.
 *
 * - accuracy verifications/s (answer extraction + math equivalence, one event-loop thread) for
 *   numeric answers, LaTeX fractions and symbolic expressions. Goals: numeric >= 50,000/s,
 *   symbolic >= 1,000/s.
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
  symbolic: [['(x+1)^2', 'x^2+2x+1'], ['2\\sqrt{2}', '\\sqrt{8}'], ['\\sin^2 x + \\cos^2 x', '1'], ['2\\pi r', '2r\\pi'], ['x^2-1', '(x-1)(x+1)'], ['x+1', 'x+2']],
};

function benchAccuracy(name: string, cases: Array<[string, string]>): void {
  const responses = cases.map(([answer, gold]) => [`<think>work</think><answer>${answer}</answer>`, gold] as const);
  let runs = 0;
  let equal = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) {
    for (const [response, gold] of responses) equal += accuracyReward(response, gold).value;
    runs += responses.length;
  }
  const perSecond = runs / ((performance.now() - started) / 1000);
  console.log(`accuracy, ${name.padEnd(15)} ${Math.round(perSecond).toLocaleString('en').padStart(9)} verifications/s  (${equal / (runs / responses.length)}/${responses.length} judged equal)`);
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
  for (const [name, cases] of Object.entries(CASES)) benchAccuracy(name, cases);
  await benchSandbox();
}

main().then(
  () => process.exit(0), // the CAS thread would keep the process alive
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
