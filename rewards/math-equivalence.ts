import { casCompare } from './math/cas';
import { asInterval } from './math/inequality';
import { cleanAnswer, hasForeignNumeral, readOff, readScalar, tidyItem, type Scalar } from './math/normalize';
import { plainNumber, type PlainNumber } from './math/number';
import { shapeOf, type Shape } from './math/structure';

export { warmUpCas } from './math/cas';

/**
 * Whether a predicted answer equals the gold answer, in the spirit of Hugging Face math-verify.
 *
 * Pipeline: reject what must not be read (too long, non-ASCII numerals) → strip presentation
 * (normalize.ts) → split containers (structure.ts) → compare each value: plain numbers without
 * the CAS (number.ts), everything else in the CAS thread (cas.ts), under one deadline.
 *
 * Rules worth knowing:
 * - Numbers: |a - b| <= max(absTol, relTol * max(|a|, |b|)); integers compare exactly.
 *   Defaults relTol 1e-9, absTol 1e-12: a rounded answer (3.14 for π, 0.333 for 1/3) is wrong.
 * - Percentages: `p%` equals both p and p/100 (`50%` = `50` = `0.5`), but `0.5` ≠ `50` when
 *   neither side has a percent sign; with a sign on both sides, the numbers compare directly.
 *   Rounded decimals stay unequal by default; `relTol` / `absTol` (the reward spec's options)
 *   widen the tolerance for tasks that ask for a rounded answer.
 * - Units (`\text{cm}`, `5 cm`), degree signs (`90^\circ` = 90; not converted to radians),
 *   `$`, `\left`/`\right`, spacing and text escaped twice (`\\frac`) are ignored.
 * - Labels are read off (normalize.ts readOff): `x = 3`, `(p, q) = (3, 2)`, `|AB| = 1`,
 *   `x \in [0, 1)`, the end of a chain `x = 2 + 1 = 3`, the exact side of `x \approx 1.41`.
 * - Containers: see structure.ts (tuples and intervals ordered with matching brackets; sets,
 *   bare lists, `;`/`or`/`and` lists and `a \pm b` unordered; matrices cell by cell). A single
 *   value equals a one-element set.
 * - A one-variable inequality is the interval it describes (inequality.ts): a gold `x > 3`
 *   accepts `(3, \infty)` and `x > 3`. A gold written as an interval or set asks for that form:
 *   an inequality does not answer it (as in math-verify).
 * - A decimal comma is read where the text cannot be a list: `1,22` against the single value
 *   `1.22` (a comma followed by other than a group of three digits, no space).
 * - `\binom{n}{k}` is the binomial coefficient (also for a variable n and a whole k).
 * - Text answers match ignoring spaces, and words of two or more letters ignoring case (`Yes` =
 *   `yes`, `(B)` = `B`); a single letter keeps its case (`X` ≠ `x`). A run of four or more
 *   letters is a word, never a product of variables: `abcd` is not `dcba`.
 * - Non-ASCII numerals anywhere (fullwidth, Arabic-Indic, mathematical bold, superscripts) make
 *   the answer wrong: reason 'non-ASCII numeral'.
 * - Time: each call ends by `timeoutMs` (default 1,000 ms) with reason 'timeout'; the CAS
 *   thread's one-time start-up is not counted.
 */
export interface MathEquivalenceOptions {
  relTol?: number;
  absTol?: number;
  timeoutMs?: number;
}

export interface MathVerdict {
  equal: boolean;
  reason: string;
}

export const DEFAULT_REL_TOL = 1e-9;
export const DEFAULT_ABS_TOL = 1e-12;
export const DEFAULT_TIMEOUT_MS = 1_000;
/** Longer answers are not read at all: real final answers are short, and this bounds all work. */
export const MAX_ANSWER_CHARS = 1_000;
const MAX_ITEMS = 64;
const MAX_NESTING = 8;
const WORD = /^[a-zA-Z]{2,}$/;
/** Four or more letters in a row, not a command name: a word. */
const WORD_IN_MATH = /(?<![\\a-zA-Z])[a-zA-Z]{4,}/;

interface Context {
  relTol: number;
  absTol: number;
  deadline: number;
}

export function mathEquivalent(pred: string, gold: string, opts: MathEquivalenceOptions = {}): MathVerdict {
  try {
    if (pred.length > MAX_ANSWER_CHARS) return wrong('answer too long');
    if (gold.length > MAX_ANSWER_CHARS) return wrong('gold too long');
    if (hasForeignNumeral(pred)) return wrong('non-ASCII numeral in answer');
    if (hasForeignNumeral(gold)) return wrong('non-ASCII numeral in gold');
    const ctx: Context = {
      relTol: opts.relTol ?? DEFAULT_REL_TOL,
      absTol: opts.absTol ?? DEFAULT_ABS_TOL,
      deadline: Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    };

    const cleaned = [cleanAnswer(pred), cleanAnswer(gold)];
    const verdict = compareAnswers(cleaned[0], cleaned[1], ctx, 0);
    if (verdict.equal || verdict.reason === 'timeout') return verdict;
    const commaRead = decimalCommaReadings(cleaned[0], cleaned[1]);
    return commaRead === null ? verdict : compareAnswers(commaRead[0], commaRead[1], ctx, 0);
  } catch (err) {
    return wrong(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const DECIMAL_COMMA = /^[+-]?\d+,(?!\d{3}$)\d+$/;
const LEADING_ZERO_GROUP = /^[+-]?0,\d+$/;

/**
 * `1,22` or `0,111` as decimals, when the other side is a single plain number: such a text
 * cannot be a thousands group, and against one number a two-item list cannot be right anyway.
 */
function decimalCommaReadings(pred: string, gold: string): [string, string] | null {
  const asDecimal = (s: string) => (DECIMAL_COMMA.test(s) || LEADING_ZERO_GROUP.test(s) ? s.replace(',', '.') : null);
  const [p, g] = [asDecimal(pred), asDecimal(gold)];
  if (p !== null && g === null && plainNumber(gold) !== null) return [p, gold];
  if (g !== null && p === null && plainNumber(pred) !== null) return [pred, g];
  return null;
}

function compareAnswers(predText: string, goldText: string, ctx: Context, depth: number): MathVerdict {
  const [pred, gold] = [tidyItem(predText), tidyItem(goldText)];
  if (pred === '') return wrong('empty answer');
  if (pred === gold) return right('identical');
  if (depth > MAX_NESTING) return wrong('nested too deeply');
  const [p, g] = [shapeOf(pred), shapeOf(gold)];
  const labelled = p.kind === 'value' || g.kind === 'value' ? compareReadOff(pred, p, gold, g, ctx, depth) : null;
  if (labelled !== null) return labelled;
  const intervals = inequalitiesAsIntervals(pred, gold);
  if (intervals !== null) return 'interval' in intervals ? compareAnswers(intervals.interval[0], intervals.interval[1], ctx, depth + 1) : intervals;
  if (p.kind === 'value' && g.kind === 'value') return compareValues(readScalar(p.text), readScalar(g.text), ctx);
  if (p.kind === 'value' && g.kind === 'set' && g.items.length === 1) return compareAnswers(pred, g.items[0], ctx, depth + 1);
  if (g.kind === 'value' && p.kind === 'set' && p.items.length === 1) return compareAnswers(p.items[0], gold, ctx, depth + 1);
  if (p.kind === 'value' || g.kind === 'value' || p.kind !== g.kind) return wrong(`${p.kind} vs ${g.kind}`);
  return compareContainers(p, g, ctx, depth);
}

/**
 * The verdict on the values read off a single answer (normalize.ts readOff), when reading off
 * changed a side; null when there was nothing to read off. When the values differ but a side was
 * an equation `v = ...`, the equations themselves are compared: `y = 2x - 3` equals `2x - y = 3`.
 */
function compareReadOff(pred: string, p: Shape, gold: string, g: Shape, ctx: Context, depth: number): MathVerdict | null {
  const a = p.kind === 'value' ? readOff(pred) : { value: pred, equation: null };
  const b = g.kind === 'value' ? readOff(gold) : { value: gold, equation: null };
  if (a.value === pred && b.value === gold) return null;
  const verdict = compareAnswers(a.value, b.value, ctx, depth + 1);
  if (verdict.equal || verdict.reason === 'timeout' || (a.equation === null && b.equation === null)) return verdict;
  const equations = compareValues(readScalar(a.equation ?? pred), readScalar(b.equation ?? gold), ctx);
  return equations.equal || equations.reason === 'timeout' ? equations : verdict;
}

/**
 * One-variable inequalities read as intervals (inequality.ts), so that `x > 3` equals
 * `(3, \infty)`; null when neither side is one. Two inequalities in different variables are not
 * read (`x > 3` is not `y > 3`). A gold that is not an inequality asks for its own form.
 */
function inequalitiesAsIntervals(pred: string, gold: string): { interval: [string, string] } | MathVerdict | null {
  const [p, g] = [asInterval(pred), asInterval(gold)];
  if (p === null && g === null) return null;
  if (p !== null && g === null) return wrong('an inequality where the gold is not one');
  if (p !== null && g !== null && p.variable !== g.variable) return null;
  return { interval: [p?.interval ?? pred, g!.interval] };
}

type Container = Exclude<Shape, { kind: 'value' }>;

function compareContainers(p: Container, g: Container, ctx: Context, depth: number): MathVerdict {
  const same = (a: string, b: string) => compareAnswers(a, b, ctx, depth + 1);
  if (p.kind === 'matrix' || g.kind === 'matrix') {
    if (p.kind !== 'matrix' || g.kind !== 'matrix') return wrong(`${p.kind} vs ${g.kind}`);
    return compareMatrices(p.rows, g.rows, same);
  }
  if (p.kind === 'sequence' || g.kind === 'sequence') {
    if (p.kind !== 'sequence' || g.kind !== 'sequence') return wrong(`${p.kind} vs ${g.kind}`);
    if (p.open !== g.open || p.close !== g.close) return wrong(`brackets ${p.open}${p.close} vs ${g.open}${g.close}`);
    if (p.items.length !== g.items.length) return wrong(`${p.items.length} items vs ${g.items.length}`);
    for (let i = 0; i < p.items.length; i++) {
      const verdict = same(p.items[i], g.items[i]);
      if (!verdict.equal) return verdict.reason === 'timeout' ? verdict : wrong(`item ${i + 1}: ${verdict.reason}`);
    }
    return right('same sequence');
  }
  const [a, b] = [p.items, g.items];
  if (a.length > MAX_ITEMS || b.length > MAX_ITEMS) return wrong('too many items');
  // Unordered: every item on each side has an equal item on the other (repeats do not count).
  // Each (answer item, gold item) pair is compared once, the answer's item always as the answer.
  const verdicts = new Map<number, boolean>();
  const equal = (i: number, j: number) => {
    const key = i * b.length + j;
    if (!verdicts.has(key)) verdicts.set(key, same(a[i], b[j]).equal);
    return verdicts.get(key)!;
  };
  const unmatched = a.find((_, i) => !b.some((_, j) => equal(i, j))) ?? b.find((_, j) => !a.some((_, i) => equal(i, j)));
  if (unmatched !== undefined) return Date.now() > ctx.deadline ? wrong('timeout') : wrong(`no match for ${unmatched}`);
  return right(`same ${p.kind}`);
}

/** Same shape, and equal cell by cell. */
function compareMatrices(a: string[][], b: string[][], same: (x: string, y: string) => MathVerdict): MathVerdict {
  const shape = (m: string[][]) => m.map((row) => row.length).join(','); // cells per row
  if (shape(a) !== shape(b)) return wrong(`matrix rows of ${shape(a)} vs ${shape(b)} cells`);
  if (a.flat().length > MAX_ITEMS) return wrong('too many items');
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i].length; j++) {
      const verdict = same(a[i][j], b[i][j]);
      if (!verdict.equal) return verdict.reason === 'timeout' ? verdict : wrong(`cell (${i + 1}, ${j + 1}): ${verdict.reason}`);
    }
  }
  return right('same matrix');
}

function compareValues(p: Scalar, g: Scalar, ctx: Context): MathVerdict {
  if (p.latex === '') return wrong('empty answer');
  const [a, b] = [plainNumber(p.latex), plainNumber(g.latex)];
  if (a && b) return compareNumbers(a, p.percent, b, g.percent, ctx);
  if (p.percent === g.percent && sameText(p.latex, g.latex)) return right('same text');
  // A word (`Evelyn`, `AZYUK`) is text, not a product of variables: the CAS would spend
  // milliseconds per letter parsing it, and could only call it a product.
  if (WORD_IN_MATH.test(p.latex) || WORD_IN_MATH.test(g.latex)) return wrong('different text');
  if (hasFreeBigOperator(p.latex) || hasFreeBigOperator(g.latex)) return wrong('different sums, products or integrals');
  if (Date.now() > ctx.deadline) return wrong('timeout');

  const readings = casReadings(p, g);
  let last: MathVerdict = wrong('no reading');
  for (const [pred, gold] of readings) {
    last = casCompare({ pred, gold, relTol: ctx.relTol, absTol: ctx.absTol }, ctx.deadline);
    if (last.equal || last.reason === 'timeout') return last;
  }
  return last;
}

function compareNumbers(a: PlainNumber, aPercent: boolean, b: PlainNumber, bPercent: boolean, ctx: Context): MathVerdict {
  if (aPercent === bPercent && a.integer !== null && b.integer !== null) {
    return a.integer === b.integer ? right('same integer') : wrong('different integers');
  }
  const close = (x: number, y: number) => x === y || Math.abs(x - y) <= Math.max(ctx.absTol, ctx.relTol * Math.max(Math.abs(x), Math.abs(y)));
  const readsEqual =
    aPercent === bPercent ? close(a.value, b.value)
    : aPercent ? close(a.value, b.value) || close(a.value / 100, b.value)
    : close(a.value, b.value) || close(a.value, b.value / 100);
  return readsEqual ? right('numerically equal') : wrong('different numbers');
}

/** The CAS readings of a value pair: as read, then under the percentage rule. */
function casReadings(p: Scalar, g: Scalar): Array<[string, string]> {
  const readings: Array<[string, string]> = [[p.latex, g.latex]];
  const asFraction = (latex: string) => `\\frac{${latex}}{100}`;
  if (p.percent && !g.percent) readings.push([asFraction(p.latex), g.latex]);
  if (g.percent && !p.percent) readings.push([p.latex, asFraction(g.latex)]);
  return readings;
}

/** Same text ignoring spaces; ignoring case too for words (`Yes`, `Even`), never for symbols (`X` ≠ `x`). */
function sameText(a: string, b: string): boolean {
  const [x, y] = [a.replace(/ /g, ''), b.replace(/ /g, '')];
  if (x === y) return true;
  return WORD.test(x) && x.toLowerCase() === y.toLowerCase();
}

const BIG_OPERATOR = /\\(?:sum|prod|int)(?![a-zA-Z])/;

/**
 * A sum, product or integral over a free variable (`\sum_{k=0}^{n-1} F_k`): the CAS can neither
 * sample it (it is evaluated exactly at each point, tens of milliseconds, seldom to a number) nor
 * rewrite it reliably, so such answers are equal only as the same text. One with every letter
 * bound (`\sum_{k=1}^{10} k`, `\int_0^1 x dx`) is a number, left to the CAS.
 */
function hasFreeBigOperator(latex: string): boolean {
  if (!BIG_OPERATOR.test(latex)) return false;
  const bound = new Set([...latex.matchAll(/_\{?\s*([a-zA-Z])\s*=|\bd\s*([a-zA-Z])\s*$/g)].map((m) => m[1] ?? m[2]));
  const letters = latex.replace(/\\[a-zA-Z]+/g, ' ').replace(/\bd\s*[a-zA-Z]\s*$/, ' ').match(/[a-zA-Z]/g) ?? [];
  return letters.some((letter) => !bound.has(letter));
}

function right(reason: string): MathVerdict {
  return { equal: true, reason };
}

function wrong(reason: string): MathVerdict {
  return { equal: false, reason };
}
