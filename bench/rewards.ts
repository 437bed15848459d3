/**
 * `npm run bench:rewards`: how fast and how right the rewards are. Prints figures, asserts nothing.
 *
 * - agreement and throughput beside math-verify (Hugging Face's verifier, from PyPI, installed
 *   into a venv under .build/ when python3 is there): on our own tables (tests/rewards/math-pairs.ts)
 *   and on a held-out set drawn from math-verify's own tests (its PyPI source archive, unpacked
 *   under .build/; never part of this repository). Each side verifies the same pairs once, after
 *   warming up on other pairs; throughput is pairs per CPU-second of the whole process (our CAS
 *   thread included), so the ratio holds on a busy machine.
 * - accuracy verifications/s (answer extraction + math equivalence, one event-loop thread) for
 *   numeric answers, LaTeX fractions and symbolic expressions. Goals: numeric >= 50,000/s,
 *   symbolic >= 1,000/s. Symbolic pairs are generated afresh for every verification (new
 *   coefficients each time), so that no cache keyed on the text can help; the 'group' row keeps
 *   each gold for 8 new answers, as a GRPO group does (a cache of parsed golds may help there).
 *   Also printed: verifications per CPU-second of the whole process (the CAS thread and V8's
 *   helper threads included), steadier than wall time on a busy machine.
 * - 1 MB hostile responses (tests/rewards/hostile-inputs.ts): the slowest time of each reward,
 *   called directly on this thread. Goal: under 1 s each.
 * - language identification: the share of our sample sentences (tests/rewards/language-samples.ts)
 *   the language reward assigns to their own language, and chains of thought scored per CPU-second.
 * - sandboxed programs/s through the code reward at its default concurrency (the number of CPUs).
 * - the sandbox's added latency over a bare `python3 -c pass` start. Goal: < 100 ms per program.
 * The load average is printed first and last: figures taken on a busy machine are lower.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { SandboxLimitsSchema, type TargetLanguage } from '../schemas/rewards';
import { accuracyReward } from '../rewards/accuracy';
import { codeReward } from '../rewards/code';
import { formatReward } from '../rewards/format';
import { languageReward } from '../rewards/language';
import { overlongReward } from '../rewards/length';
import { mathEquivalent, warmUpCas } from '../rewards/math-equivalence';
import { runInSandbox, sandboxAvailable } from '../rewards/sandbox';
import { hostileSamples } from '../tests/rewards/hostile-inputs';
import { LANGUAGE_SAMPLES } from '../tests/rewards/language-samples';
import { MATH_PAIRS, RESPONSE_PAIRS } from '../tests/rewards/math-pairs';

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

// ---- agreement and throughput beside math-verify ------------------------------------------

/** An answer as math-verify reads it: inside math delimiters. */
const dollars = (s: string) => `$${s}$`;

const BUILD = path.join(__dirname, '..', '..', '.build');
const MATH_VERIFY = 'math-verify==0.9.0';
const VENV = path.join(BUILD, 'math-verify-venv');
const HELD_OUT = path.join(BUILD, 'math-verify-pairs.json');

/** A pair as both verifiers see it: `ours` judges it, `theirs` is the text math-verify parses. */
interface BenchPair {
  gold: string;
  pred: string;
  expected: boolean;
  ours: () => boolean;
  theirs: [gold: string, pred: string];
}

function run(command: string, args: string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: (result.stderr ?? '') + (result.error?.message ?? '') };
}

/** The venv's python with math-verify installed, or the reason there is none. */
function mathVerifyPython(): { python: string } | { missing: string } {
  const python = path.join(VENV, 'bin', 'python');
  if (!existsSync(python)) {
    const venv = run('python3', ['-m', 'venv', VENV]);
    if (!venv.ok) return { missing: `no python3 venv (${venv.stderr.trim().split('\n').pop()})` };
  }
  if (!run(python, ['-c', 'import math_verify']).ok) {
    const pip = run(python, ['-m', 'pip', 'install', '--quiet', MATH_VERIFY]);
    if (!pip.ok) return { missing: `pip install ${MATH_VERIFY} failed (${pip.stderr.trim().split('\n').pop()})` };
  }
  return { python };
}

/**
 * Reads the (gold, pred, expected) rows of math-verify's parametrized tests from its source
 * archive. Kept: rows whose test runs with math-verify's default options (no other precision, no
 * strict=False, no set-relation option), each (gold, pred) once.
 */
const EXTRACT_PAIRS = `
import ast, json, math, pathlib, sys
DEFAULTS = {"precision": 6, "strict": True, "allow_set_relation_comp": False}
pairs = {}
for f in sorted(pathlib.Path(sys.argv[1]).glob("test_*.py")):
    for fn in ast.parse(f.read_text()).body:
        for dec in getattr(fn, "decorator_list", []):
            if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"): continue
            names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
            if "gold" not in names or "pred" not in names: continue
            for node in dec.args[1].elts:
                row = dict(zip(names, eval(compile(ast.Expression(node), str(f), "eval"), {"math": math})))
                if any(DEFAULTS.get(k, v) != v for k, v in row.items() if k not in ("gold", "pred", "expected", "result")): continue
                pairs.setdefault((row["gold"], row["pred"]), bool(row.get("expected", row.get("result"))))
print(json.dumps([{"gold": g, "pred": p, "expected": e} for (g, p), e in pairs.items()]))
`;

/** The held-out pairs, built once from math-verify's source archive into .build/. */
function heldOutPairs(python: string): Array<{ gold: string; pred: string; expected: boolean }> | string {
  if (!existsSync(HELD_OUT)) {
    const archives = path.join(BUILD, 'math-verify-sdist');
    mkdirSync(archives, { recursive: true });
    const download = run(python, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--no-binary', ':all:', '-d', archives, MATH_VERIFY]);
    const archive = readdirSync(archives).find((f) => f.endsWith('.tar.gz'));
    if (!download.ok || archive === undefined) return `cannot download the ${MATH_VERIFY} source (${download.stderr.trim().split('\n').pop()})`;
    run('tar', ['-xzf', path.join(archives, archive), '-C', archives]);
    const tests = path.join(archives, archive.replace(/\.tar\.gz$/, ''), 'tests');
    const extracted = run(python, ['-c', EXTRACT_PAIRS, tests]);
    if (!extracted.ok) return `cannot read math-verify's tests (${extracted.stderr.trim().split('\n').pop()})`;
    writeFileSync(HELD_OUT, extracted.stdout);
  }
  return JSON.parse(readFileSync(HELD_OUT, 'utf8'));
}

/** math-verify on each set once, after a warm-up; verdicts and CPU seconds (the whole process) per set. */
const RUN_MATH_VERIFY = `
import json, sys, time
from math_verify import parse, verify
job = json.load(sys.stdin)
for gold, pred in job["warmup"]: verify(parse(gold), parse(pred))
out = {}
for name, pairs in job["sets"].items():
    started = time.process_time()
    verdicts = [bool(verify(parse(gold), parse(pred))) for gold, pred in pairs]
    out[name] = {"verdicts": verdicts, "cpu": time.process_time() - started}
print(json.dumps(out))
`;

function ourSets(heldOut: Array<{ gold: string; pred: string; expected: boolean }> | null): Record<string, BenchPair[]> {
  const sets: Record<string, BenchPair[]> = {
    'own answer table': Object.values(MATH_PAIRS).flat().map(([pred, gold, expected]) => ({
      gold, pred, expected, ours: () => mathEquivalent(pred, gold).equal, theirs: [dollars(gold), dollars(pred)],
    })),
    'own response table': Object.values(RESPONSE_PAIRS).flat().map(([pred, gold, expected]) => ({
      gold, pred, expected, ours: () => accuracyReward(pred, gold).value === 1, theirs: [gold, pred],
    })),
  };
  if (heldOut !== null) {
    sets['held-out (math-verify tests)'] = heldOut.map(({ gold, pred, expected }) => ({
      gold, pred, expected, ours: () => accuracyReward(pred, gold).value === 1, theirs: [gold, pred],
    }));
  }
  return sets;
}

/** Pairs neither table holds: symbolic answers with fresh coefficients, in the response styles of the tables. */
function warmUpPairs(count: number): Array<[gold: string, response: string]> {
  const styles = [
    (a: string) => `The final answer is $${a}$. I hope it is correct.`,
    (a: string) => `so we get $\\boxed{${a}}$.`,
    (a: string) => `<think>ok</think><answer>${a}</answer>`,
    (a: string) => dollars(a),
    (a: string) => `Therefore $y = ${a}$ is what we get, I think.`,
    (_: string, k: number) => `There are ${k} ways, or ${k + 1}. I hope it is correct.`,
  ];
  const pairs: Array<[string, string]> = [];
  for (let k = 20_000; pairs.length < count; k++) {
    for (const [answer, gold] of symbolicCases(k)) pairs.push([dollars(gold), styles[pairs.length % styles.length](answer, k)]);
  }
  return pairs;
}

function agreement(verdicts: boolean[], pairs: BenchPair[]): string {
  const agree = verdicts.filter((v, i) => v === pairs[i].expected).length;
  const unequalAccepted = verdicts.filter((v, i) => v && !pairs[i].expected).length;
  return `${agree}/${pairs.length} (${((100 * agree) / pairs.length).toFixed(1)}%), ${unequalAccepted} unequal accepted`;
}

function benchAgreement(): void {
  const found = mathVerifyPython();
  const python = 'python' in found ? found.python : null;
  const heldOut = python === null ? null : heldOutPairs(python);
  if (python === null) console.log(`math-verify: unavailable (${(found as { missing: string }).missing}); our figures only`);
  else if (typeof heldOut === 'string') console.log(`held-out set: unavailable (${heldOut})`);
  const sets = ourSets(Array.isArray(heldOut) ? heldOut : null);

  // Warm-up on other pairs (the JIT, the CAS thread, math-verify's imports), then one timed pass.
  const warmUp = warmUpPairs(2_000);
  for (const [gold, response] of warmUp) accuracyReward(response, gold);
  const ours: Record<string, { verdicts: boolean[]; cpu: number }> = {};
  for (const [name, pairs] of Object.entries(sets)) {
    const cpu = process.cpuUsage();
    const verdicts = pairs.map((pair) => pair.ours());
    const used = process.cpuUsage(cpu);
    ours[name] = { verdicts, cpu: (used.user + used.system) / 1e6 };
  }
  let theirs: Record<string, { verdicts: boolean[]; cpu: number }> | null = null;
  if (python !== null) {
    const job = { warmup: warmUp.slice(0, 40), sets: Object.fromEntries(Object.entries(sets).map(([n, ps]) => [n, ps.map((p) => p.theirs)])) };
    const result = run(python, ['-c', RUN_MATH_VERIFY], JSON.stringify(job));
    if (result.ok) theirs = JSON.parse(result.stdout.trim().split('\n').pop()!);
    else console.log(`math-verify: failed (${result.stderr.trim().split('\n').pop()})`);
  }
  for (const [name, pairs] of Object.entries(sets)) {
    const us = ours[name];
    const rate = (cpu: number) => Math.round(pairs.length / cpu);
    console.log(`agreement, ${name}: ours ${agreement(us.verdicts, pairs)}; ${rate(us.cpu).toLocaleString('en')} pairs per CPU-second`);
    if (theirs !== null) {
      const them = theirs[name];
      console.log(
        `${' '.repeat(11 + name.length)}  math-verify ${agreement(them.verdicts, pairs)}; ${rate(them.cpu).toLocaleString('en')} pairs per CPU-second; ` +
          `ours ${(rate(us.cpu) / rate(them.cpu)).toFixed(1)}x faster`,
      );
    }
  }
}

// ---- hostile inputs and language identification ---------------------------------------------

async function benchHostile(): Promise<void> {
  const limits = SandboxLimitsSchema.parse({});
  const rewards: Record<string, (sample: ReturnType<typeof hostileSamples>[number][1]) => unknown> = {
    accuracy: (s) => accuracyReward(s.response, s.gold!),
    format: (s) => formatReward(s.response),
    language: (s) => languageReward(s.response, 'en'),
    overlong: (s) => overlongReward(s, { maxTokens: 100, buffer: 10 }),
    code: (s) => codeReward(s.response, s.tests!, { language: 'python', limits }),
  };
  const samples = hostileSamples();
  for (const [name, reward] of Object.entries(rewards)) {
    let worst = { ms: 0, label: '' };
    for (const [label, sample] of samples) {
      const started = performance.now();
      await reward(sample);
      const ms = performance.now() - started;
      if (ms > worst.ms) worst = { ms, label };
    }
    console.log(`hostile 1 MB, ${name.padEnd(9)} slowest ${worst.ms.toFixed(0).padStart(4)} ms of ${samples.length} responses (${worst.label})`);
  }
}

function benchLanguage(): void {
  const targets = Object.keys(LANGUAGE_SAMPLES).filter((l): l is TargetLanguage => ['en', 'fr', 'de', 'es', 'ru', 'zh', 'ja', 'ko', 'ar'].includes(l));
  let right = 0;
  let total = 0;
  for (const language of targets) {
    for (const sentence of LANGUAGE_SAMPLES[language]) {
      right += languageReward(`<think>${sentence}</think>`, language).value;
      total++;
    }
  }
  const thoughts = `<think>${LANGUAGE_SAMPLES.en.join(' ')} ${LANGUAGE_SAMPLES.fr.slice(0, 5).join(' ')}</think>`;
  const cpu = process.cpuUsage();
  let scored = 0;
  for (const started = performance.now(); performance.now() - started < 1000; scored++) languageReward(thoughts, 'en');
  const used = process.cpuUsage(cpu);
  console.log(
    `language, sentences assigned to their own language ${right}/${total}; ` +
      `${Math.round(scored / ((used.user + used.system) / 1e6)).toLocaleString('en')} chains of thought (${thoughts.length} chars) per CPU-second`,
  );
}

const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')} on ${availableParallelism()} CPUs`;

async function main(): Promise<void> {
  console.log(load());
  warmUpCas();
  benchAgreement();
  for (const [name, cases] of Object.entries(CASES)) benchAccuracy(name, () => cases);
  let k = 0;
  benchAccuracy('symbolic, unseen', () => symbolicCases(k++));
  benchAccuracy('symbolic, group', () => groupCases(k++));
  benchLanguage();
  await benchHostile();
  await benchSandbox();
  console.log(load());
}

main().then(
  () => process.exit(0), // the CAS thread would keep the process alive
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
