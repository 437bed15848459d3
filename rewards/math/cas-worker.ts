import { workerData, type MessagePort } from 'node:worker_threads';
import { ComputeEngine, type BoxedExpression, type SemiBoxedExpression } from '@cortex-js/compute-engine';
import type { CasReply, CasRequest } from './cas';
import { floatEvaluator } from './evaluate';
import { fastLatexToJson } from './fast-latex';
import { mulberry32 } from './random';

/**
 * The CAS thread: compares two single values with the Compute Engine. It runs on its own thread
 * because parsing alone can run away (`9^{9^{9}}` is expanded exactly and exhausts memory) and
 * cannot be interrupted from inside; the caller waits with a deadline and kills this thread.
 *
 * Order of checks: identical canonical forms (symbolic); no free variables → compare the
 * numeric values; free variables → evaluate both at the same pseudo-random points (fixed seed,
 * so a verdict never depends on luck). Equations `l = r` compare `l - r` up to a constant factor.
 */
const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };
const ce = new ComputeEngine();
/**
 * `\binom{n}{k}`, which the Compute Engine 0.29 does not read, as its `Choose` function (exact for
 * integers; evaluate.ts samples it for a variable n). Only braced arguments: `\binom52` stays an error.
 */
ce.latexDictionary = [
  ...ce.latexDictionary,
  {
    name: 'Choose',
    latexTrigger: '\\binom',
    kind: 'expression',
    parse: (parser) => {
      const [n, k] = [parser.parseGroup(), parser.parseGroup()];
      return n === null || k === null ? null : ['Choose', n, k];
    },
  },
];

/** The Compute Engine's LaTeX parser is the slow step (0.3–1 ms); re-boxing its MathJSON is ~20x faster. */
const PARSE_CACHE_SIZE = 4_096;
const parsed = new Map<string, SemiBoxedExpression>();
const SAMPLE_POINTS = 8;
const SAMPLE_TRIES = 24;
const RELATIONS = new Set(['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual', 'Element', 'NotElement', 'And', 'Or', 'Not']);

port.on('message', (request: CasRequest) => {
  let verdict: Omit<CasReply, 'id'>;
  ce.pushScope(); // symbols declared while parsing one pair must not change how the next parses
  try {
    verdict = compare(request);
  } catch (err) {
    verdict = { equal: false, reason: `cas error: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    ce.popScope();
  }
  reply({ id: request.id, ...verdict });
});
reply({ id: -1, equal: false, reason: 'ready' });

function reply(message: CasReply): void {
  port.postMessage(message);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function compare({ pred, gold, relTol, absTol }: CasRequest): Omit<CasReply, 'id'> {
  const a = parse(pred);
  const b = parse(gold);
  if (!a.isValid) return { equal: false, reason: 'answer does not parse' };
  if (!b.isValid) return { equal: false, reason: 'gold does not parse' };
  if (a.isSame(b)) return { equal: true, reason: 'symbolically identical' };
  if (RELATIONS.has(a.operator) || RELATIONS.has(b.operator)) return { equal: false, reason: 'different relations' };

  const close = (x: number, y: number) => Math.abs(x - y) <= Math.max(absTol, relTol * Math.max(Math.abs(x), Math.abs(y)));
  const isEquation = (e: BoxedExpression) => e.operator === 'Equal';
  if (isEquation(a) !== isEquation(b)) return { equal: false, reason: 'equation vs expression' };
  if (isEquation(a)) return compareEquations(a, b, close);

  const variables = [...new Set([...a.unknowns, ...b.unknowns])];
  if (variables.length === 0) {
    // Floats first (evaluate.ts, microseconds); the exact numeric evaluation only where they
    // give no real number (complex values such as \sqrt{-4}, operators evaluate.ts lacks).
    const [fastA, fastB] = [floatEvaluator(a)?.({}), floatEvaluator(b)?.({})];
    if (fastA !== undefined && fastB !== undefined && Number.isFinite(fastA) && Number.isFinite(fastB)) {
      return close(fastA, fastB) ? { equal: true, reason: 'numerically equal' } : { equal: false, reason: 'different values' };
    }
    const [x, y] = [a.N(), b.N()];
    if (![x.re, x.im, y.re, y.im].every(Number.isFinite)) return { equal: false, reason: 'not a finite number' };
    return close(x.re, y.re) && close(x.im, y.im)
      ? { equal: true, reason: 'numerically equal' }
      : { equal: false, reason: 'different values' };
  }
  const [f, g] = [evaluator(a), evaluator(b)];
  return sampleAgree(variables, (point) => [f(point), g(point)], close)
    ? { equal: true, reason: 'equal at sampled points' }
    : { equal: false, reason: 'differ at sampled points' };
}

/**
 * `ce.parse` through a cache of its MathJSON. Every parse runs in a fresh scope over the same
 * base, so the MathJSON depends on the text alone and caching cannot change a verdict. Golds
 * repeat for every sample of a GRPO group, and samples often repeat each other.
 *
 * Plain algebra is read by fast-latex.ts, which yields the very MathJSON the Compute Engine's
 * parser would (checked by tests/rewards/fast-latex.test.ts) in a fraction of the time; boxing
 * it gives the same expression as `ce.parse`.
 */
function parse(latex: string): BoxedExpression {
  const json = parsed.get(latex);
  if (json !== undefined) {
    parsed.delete(latex); // re-insert: the Map's order is the recency order
    parsed.set(latex, json);
    return ce.box(json);
  }
  const fast = fastLatexToJson(latex);
  const expr = fast === null ? ce.parse(latex) : ce.box(fast as SemiBoxedExpression);
  parsed.set(latex, expr.json);
  if (parsed.size > PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value as string);
  return expr;
}

/** `l1 = r1` and `l2 = r2` describe the same relation when `l2 - r2 = c (l1 - r1)`, c ≠ 0. */
function compareEquations(a: BoxedExpression, b: BoxedExpression, close: (x: number, y: number) => boolean): Omit<CasReply, 'id'> {
  const da = ce.box(['Subtract', a.op1, a.op2]);
  const db = ce.box(['Subtract', b.op1, b.op2]);
  const variables = [...new Set([...da.unknowns, ...db.unknowns])];
  const [f, g] = [evaluator(da), evaluator(db)];
  let factor: number | null = null;
  const agree = sampleAgree(variables, (point) => {
    const [x, y] = [f(point), g(point)];
    if (factor === null && Math.abs(x) > 1e-6 && Math.abs(y) > 1e-6) factor = y / x;
    return [x * (factor ?? 1), y];
  }, close);
  return agree ? { equal: true, reason: 'equivalent equations' } : { equal: false, reason: 'different equations' };
}

/**
 * A float evaluator: evaluate.ts when it knows every operator (what `compile()` would compute,
 * without building a Function), else compiled JavaScript when the CE can compile it, else exact
 * evaluation.
 */
function evaluator(e: BoxedExpression): (point: Record<string, number>) => number {
  const fast = floatEvaluator(e);
  if (fast !== null) return fast;
  try {
    const compiled = e.compile();
    return (point) => Number(compiled(point));
  } catch {
    return (point) => {
      const value = e.subs(point).N();
      return value.im === 0 ? value.re : NaN;
    };
  }
}

/**
 * True when the two values agree at enough sample points. A point where exactly one side is
 * defined counts as a disagreement (`\ln(x^2)` is not `2\ln x` for negative x); points where
 * neither is defined are skipped.
 */
function sampleAgree(
  variables: string[],
  valuesAt: (point: Record<string, number>) => [number, number],
  close: (x: number, y: number) => boolean,
): boolean {
  const random = mulberry32(0x5eed);
  let agreed = 0;
  for (let attempt = 0; attempt < SAMPLE_TRIES && agreed < SAMPLE_POINTS; attempt++) {
    // Half the points are positive, where roots and logarithms are defined; half span the sign.
    const point: Record<string, number> = {};
    for (const v of variables) point[v] = attempt % 2 === 0 ? 0.5 + 2 * random() : -3 + 6 * random();
    const [x, y] = valuesAt(point);
    const [xOk, yOk] = [Number.isFinite(x), Number.isFinite(y)];
    if (!xOk && !yOk) continue;
    if (xOk !== yOk || !close(x, y)) return false;
    agreed++;
  }
  return agreed >= SAMPLE_POINTS / 2;
}

