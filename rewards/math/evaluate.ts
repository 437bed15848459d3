import type { BoxedExpression } from '@cortex-js/compute-engine';

/**
 * A float evaluator for a canonical Compute Engine expression, computing what `expr.compile()`
 * would: the same Math functions on the same operands (the rules below mirror the Compute Engine
 * 0.29.1 JavaScript target, compile.ts). It follows the expression tree, where compile()'s
 * JavaScript text sometimes re-associates (`a * (b * c)` is written `a * b * c`, `y \sec x` is
 * written `y * 1 / Math.cos(x)`), so results can differ in the last bits: far below any
 * comparison tolerance, and both sides of a comparison are evaluated the same way. One real
 * difference: compile() writes `r / \sec x` as `r / 1 / Math.cos(x)`, which JavaScript reads as
 * r / cos x; this evaluator computes r cos x, so `\frac{1}{\sec x}` now equals `\cos x`. And
 * rational powers with an odd denominator are real roots of negative numbers (see power()).
 *
 * Why: `compile()` writes JavaScript source and builds a Function from it, ~0.1 ms per
 * expression, as much as all the rest of a comparison; walking the expression tree once into
 * closures costs a few microseconds, and the expressions are evaluated at only a few points.
 *
 * Returns null for anything it does not know (an operator outside the table, complex literals,
 * symbols other than the expression's unknowns and the usual constants): the caller then uses
 * `compile()`, so the verdict never depends on this table being complete.
 * tests/rewards/fast-latex.test.ts checks it against `compile()`.
 */
export type Point = Record<string, number>;
type Fn = (point: Point) => number;

const CONSTANTS: Record<string, number> = { Pi: Math.PI, ExponentialE: Math.E, Half: 0.5 };

const UNARY: Record<string, (x: number) => number> = {
  Negate: (x) => -x,
  Sqrt: Math.sqrt,
  Abs: Math.abs,
  Exp: Math.exp,
  Ln: Math.log,
  Lb: Math.log2,
  Sin: Math.sin,
  Cos: Math.cos,
  Tan: Math.tan,
  Cot: (x) => Math.cos(x) / Math.sin(x),
  Sec: (x) => 1 / Math.cos(x),
  Csc: (x) => 1 / Math.sin(x),
  Arcsin: Math.asin,
  Arccos: Math.acos,
  Arctan: Math.atan,
  Square: (x) => Math.pow(x, 2),
};

export function floatEvaluator(expr: BoxedExpression): Fn | null {
  return build(expr, new Set(expr.unknowns));
}

function build(e: BoxedExpression, unknowns: Set<string>): Fn | null {
  const symbol = e.symbol;
  if (symbol !== null) {
    if (symbol in CONSTANTS) return constant(CONSTANTS[symbol]);
    return unknowns.has(symbol) ? (point) => point[symbol] : null;
  }
  if (e.isNumberLiteral) return e.im === 0 ? constant(e.re) : null;
  const op = e.operator;
  const args: Fn[] = [];
  for (const operand of e.ops ?? []) {
    const f = build(operand, unknowns);
    if (f === null) return null;
    args.push(f);
  }
  if (args.length === 0) return null;
  const [a, b] = args;
  if (op in UNARY && args.length === 1) {
    const f = UNARY[op];
    return (p) => f(a(p));
  }
  switch (op) {
    case 'Add':
      return fold(args, (x, y) => x + y);
    case 'Multiply':
      return fold(args, (x, y) => x * y);
    case 'Subtract':
      return args.length === 2 ? (p) => a(p) - b(p) : null;
    case 'Divide':
      return fold(args, (x, y) => x / y);
    case 'Power':
      return args.length === 2 ? power(a, b, e.ops![1]) : null;
    case 'Root':
      return args.length === 2 ? root(a, b, e.ops![1].re) : null;
    case 'Log':
      if (args.length === 1) return (p) => Math.log10(a(p));
      return args.length === 2 ? (p) => Math.log(a(p)) / Math.log(b(p)) : null;
    case 'Choose':
      return args.length === 2 ? choose(a, e.ops![1].re) : null;
    default:
      return null;
  }
}

function constant(value: number): Fn {
  return () => value;
}

/** Left to right, as `a + b + c` evaluates in JavaScript. */
function fold(args: Fn[], combine: (x: number, y: number) => number): Fn {
  if (args.length === 1) return args[0];
  return (p) => {
    let acc = args[0](p);
    for (let i = 1; i < args.length; i++) acc = combine(acc, args[i](p));
    return acc;
  };
}

/**
 * The Compute Engine's special cases: x^(1/2) is Math.sqrt, x^(1/3) Math.cbrt (real for x < 0)...
 * Unlike compile(), any rational exponent p/q with q odd is the real root for x < 0 as well
 * (x^(2/3) = cbrt(x)^2), so that `x^{2/3}` equals `\sqrt[3]{x}^2` at negative sample points.
 */
function power(base: Fn, exponent: Fn, operand: BoxedExpression): Fn {
  const fixed = operand.re;
  if (fixed === 0.5) return (p) => Math.sqrt(base(p));
  if (fixed === 1 / 3) return (p) => Math.cbrt(base(p));
  if (fixed === 1) return base;
  if (fixed === -1) return (p) => 1 / base(p);
  if (fixed === -0.5) return (p) => 1 / Math.sqrt(base(p));
  const rational = operand.json;
  if (Array.isArray(rational) && rational[0] === 'Rational' && Math.abs(Number(rational[2])) % 2 === 1) {
    const oddNumerator = Math.abs(Number(rational[1])) % 2 === 1;
    return (p) => {
      const x = base(p);
      return x < 0 ? (oddNumerator ? -1 : 1) * Math.pow(-x, fixed) : Math.pow(x, fixed);
    };
  }
  return (p) => Math.pow(base(p), exponent(p));
}

/**
 * `\binom{n}{k}` for a whole k (≤ 64) and any real n: n(n-1)...(n-k+1)/k!, the polynomial that
 * `\frac{n(n-1)}{2}` and friends are compared with. compile() knows no `Choose`; without this the
 * exact evaluation at non-integer points gives no number and the comparison fails.
 */
function choose(n: Fn, k: number): Fn | null {
  if (!Number.isInteger(k) || k < 0 || k > 64) return null;
  return (p) => {
    const x = n(p);
    let result = 1;
    for (let i = 0; i < k; i++) result = (result * (x - i)) / (i + 1);
    return result;
  };
}

function root(base: Fn, index: Fn, fixed: number): Fn {
  if (fixed === 2) return (p) => Math.sqrt(base(p));
  if (fixed === 3) return (p) => Math.cbrt(base(p));
  if (!Number.isNaN(fixed)) return (p) => Math.pow(base(p), 1 / fixed);
  return (p) => Math.pow(base(p), 1 / index(p));
}
