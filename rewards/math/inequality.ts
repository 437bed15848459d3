/**
 * Reads a one-variable inequality as the interval it describes, so that `x > 3` equals
 * `(3, \infty)` and `3 < x \le 5` equals `(3, 5]`:
 *
 *   v < b, v \le b, b > v, ...   →  (-\infty, b)  or  (-\infty, b]
 *   v > a, a < v, ...            →  (a, \infty)   or  [a, \infty)
 *   a < v < b, b > v \ge a, ...  →  (a, b), [a, b), ...   (both signs pointing the same way)
 *   v \ne a, v != a              →  (-\infty, a) \cup (a, \infty)
 *   -v > -a                      →  as v < a (a negated variable flips the relation)
 *   |v| < b, a \le |v| \le b      →  (-b, b), [-b, -a] \cup [a, b]  (and |v| > a outside (-a, a))
 *
 * The variable is a single letter, a Greek-letter command or a function value `f(x)`, optionally
 * subscripted. Anything else (two variables, `x < 1 \text{ or } x > 2`) is not read and stays a
 * relation.
 */
export interface IntervalReading {
  variable: string;
  /** The interval in the notation structure.ts reads as a bracketed sequence: `(3, \infty)`. */
  interval: string;
}

const MAY_RELATE = /[<>]|!=|\\[lgn][et]/;
const RELATION = /\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt|neq|ne)(?![a-zA-Z])|<=|>=|!=|<|>/g;
const VARIABLE = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?(?:\([a-zA-Z]\))?$/;
const NOT_EQUAL = new Set(['\\neq', '\\ne', '!=']);
const INFINITY = /^[+-]?\\infty$/;

interface Relation {
  less: boolean; // `<`-like (the left side is smaller)
  strict: boolean;
  notEqual: boolean;
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
  if (relations.some((r) => r.notEqual)) return relations.length === 1 ? notEqual(parts[0], parts[1]) : null;
  if (relations.length === 2) return chain(parts, relations);
  return single(parts[0], parts[1], relations[0]);
}

function readRelation(op: string): Relation {
  const less = op.includes('<') || op.includes('le') || op === '\\lt';
  const strict = op === '<' || op === '>' || op === '\\lt' || op === '\\gt';
  return { less, strict, notEqual: NOT_EQUAL.has(op) };
}

/** `v < b` or `a < v` (and their mirror images); `-v` and `|v|` as the table above says. */
function single(left: string, right: string, r: Relation): IntervalReading | null {
  const [variableLeft, variableRight] = [isTerm(left), isTerm(right)];
  if (variableLeft === variableRight) return null; // two variables, or none
  let term = variableLeft ? left : right;
  let bound = variableLeft ? right : left;
  if (INFINITY.test(bound)) return null;
  // With the variable on the left, `<` bounds it above; on the right, below.
  let upper = variableLeft === r.less;
  if (term.startsWith('-')) [term, bound, upper] = [term.slice(1).trim(), negate(bound), !upper];
  if (term.startsWith('|')) {
    const variable = term.slice(1, -1);
    return upper
      ? { variable, interval: `${r.strict ? '(' : '['}${negate(bound)}, ${bound}${r.strict ? ')' : ']'}` }
      : { variable, interval: `(-\\infty, ${negate(bound)}${r.strict ? ')' : ']'} \\cup ${r.strict ? '(' : '['}${bound}, \\infty)` };
  }
  return upper
    ? { variable: term, interval: `(-\\infty, ${bound}${r.strict ? ')' : ']'}` }
    : { variable: term, interval: `${r.strict ? '(' : '['}${bound}, \\infty)` };
}

/** `a < v < b` or `b > v > a`: both relations must point the same way; `a \le |v| \le b` is two intervals. */
function chain([a, v, b]: string[], [r1, r2]: Relation[]): IntervalReading | null {
  const absolute = /^\|.+\|$/.test(v) && isVariable(v.slice(1, -1));
  if (!(isVariable(v) || absolute) || isTerm(a) || isTerm(b) || r1.less !== r2.less) return null;
  const [low, high, lowStrict, highStrict] = r1.less ? [a, b, r1.strict, r2.strict] : [b, a, r2.strict, r1.strict];
  const [open, close] = [lowStrict ? '(' : '[', highStrict ? ')' : ']'];
  if (!absolute) return { variable: v, interval: `${open}${low}, ${high}${close}` };
  const mirrored = `${highStrict ? '(' : '['}${negate(high)}, ${negate(low)}${lowStrict ? ')' : ']'}`;
  return { variable: v.slice(1, -1), interval: `${mirrored} \\cup ${open}${low}, ${high}${close}` };
}

/** `v \ne a`: every number but a. */
function notEqual(left: string, right: string): IntervalReading | null {
  const [variableLeft, variableRight] = [isVariable(left), isVariable(right)];
  if (variableLeft === variableRight) return null;
  const [variable, value] = variableLeft ? [left, right] : [right, left];
  return { variable, interval: `(-\\infty, ${value}) \\cup (${value}, \\infty)` };
}

/** A variable, a negated variable `-v`, or an absolute value `|v|`. */
function isTerm(s: string): boolean {
  if (s.startsWith('-')) return isVariable(s.slice(1).trim());
  if (s.length > 2 && s.startsWith('|') && s.endsWith('|')) return isVariable(s.slice(1, -1).trim());
  return isVariable(s);
}

function negate(bound: string): string {
  if (bound.startsWith('-')) return bound.slice(1).trim();
  return /^[\w\\{}^.]+$/.test(bound) ? `-${bound}` : `-(${bound})`;
}

function isVariable(s: string): boolean {
  return VARIABLE.test(s) && s !== '\\infty' && s !== '\\pi';
}
