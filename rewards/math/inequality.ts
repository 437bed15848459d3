/**
 * Reads a one-variable inequality as the interval it describes, so that `x > 3` equals
 * `(3, \infty)` and `3 < x \le 5` equals `(3, 5]`:
 *
 *   v < b, v \le b, b > v, ...   →  (-\infty, b)  or  (-\infty, b]
 *   v > a, a < v, ...            →  (a, \infty)   or  [a, \infty)
 *   a < v < b, b > v \ge a, ...  →  (a, b), [a, b), ...   (both signs pointing the same way)
 *
 * The variable is a single letter or a Greek-letter command, optionally subscripted. Anything
 * else (two variables, `x < 1 \text{ or } x > 2`, `\ne`) is not read and stays a relation.
 */
export interface IntervalReading {
  variable: string;
  /** The interval in the notation structure.ts reads as a bracketed sequence: `(3, \infty)`. */
  interval: string;
}

const MAY_RELATE = /[<>]|\\[lg][et]/;
const RELATION = /\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![a-zA-Z])|<=|>=|<|>/g;
const VARIABLE = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?$/;
const INFINITY = /^[+-]?\\infty$/;

interface Relation {
  less: boolean; // `<`-like (the left side is smaller)
  strict: boolean;
}

export function asInterval(text: string): IntervalReading | null {
  if (!MAY_RELATE.test(text)) return null; // the common case, cheaply
  const parts: string[] = [];
  const relations: Relation[] = [];
  let start = 0;
  for (const m of text.matchAll(RELATION)) {
    parts.push(text.slice(start, m.index).trim());
    relations.push(readRelation(m[0]));
    start = m.index! + m[0].length;
  }
  parts.push(text.slice(start).trim());
  if (relations.length === 0 || relations.length > 2 || parts.some((p) => p === '')) return null;
  if (relations.length === 2) return chain(parts, relations);
  return single(parts[0], parts[1], relations[0]);
}

function readRelation(op: string): Relation {
  const less = op.includes('<') || op.includes('le') || op === '\\lt';
  const strict = op === '<' || op === '>' || op === '\\lt' || op === '\\gt';
  return { less, strict };
}

/** `v < b` or `a < v` (and their mirror images). */
function single(left: string, right: string, r: Relation): IntervalReading | null {
  const [variableLeft, variableRight] = [isVariable(left), isVariable(right)];
  if (variableLeft === variableRight) return null; // two variables, or none
  const variable = variableLeft ? left : right;
  const bound = variableLeft ? right : left;
  if (INFINITY.test(bound)) return null;
  // With the variable on the left, `<` bounds it above; on the right, below.
  const upper = variableLeft === r.less;
  return upper
    ? { variable, interval: `(-\\infty, ${bound}${r.strict ? ')' : ']'}` }
    : { variable, interval: `${r.strict ? '(' : '['}${bound}, \\infty)` };
}

/** `a < v < b` or `b > v > a`: both relations must point the same way. */
function chain([a, v, b]: string[], [r1, r2]: Relation[]): IntervalReading | null {
  if (!isVariable(v) || isVariable(a) || isVariable(b) || r1.less !== r2.less) return null;
  const [low, high, lowStrict, highStrict] = r1.less ? [a, b, r1.strict, r2.strict] : [b, a, r2.strict, r1.strict];
  return { variable: v, interval: `${lowStrict ? '(' : '['}${low}, ${high}${highStrict ? ')' : ']'}` };
}

function isVariable(s: string): boolean {
  return VARIABLE.test(s) && s !== '\\infty' && s !== '\\pi';
}
