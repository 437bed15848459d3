/**
 * A fast reader for the plain algebra most symbolic answers are written in (`(x+3)^2`,
 * `2\sqrt{2}`, `\frac{n(n+1)}{2}`, `\sin^2 x + \cos^2 x`), producing the same MathJSON that the
 * Compute Engine's own LaTeX parser produces, so that everything after parsing (canonical form,
 * symbolic identity, compilation, sampling) is still the Compute Engine's work.
 *
 * Why: the Compute Engine's parser costs 0.3–1 ms per answer (it scans its whole LaTeX
 * dictionary at every token), which alone held symbolic verification under 1,000/s. This reader
 * takes microseconds.
 *
 * It returns null for anything outside its small grammar, and the caller then uses the Compute
 * Engine's parser: it never guesses. Its output must be exactly the MathJSON that the Compute
 * Engine's parser gives for the same text (`ce.parse(latex, { canonical: false }).json`, nesting
 * and quirks included), so that boxing it gives the same expression as `ce.parse(latex)`;
 * tests/rewards/fast-latex.test.ts checks that on the answer table and on generated expressions.
 *
 * Grammar (spaces ignored):
 *   input    := sum [ = sum ]
 *   sum      := signed { (+|-) signed }
 *   signed   := [-] product                           (the minus applies to the first power)
 *   product  := quotient { (\cdot | \times | *) quotient }
 *   quotient := juxt { / juxt }
 *   juxt     := power { power }                        (implicit multiplication)
 *   power    := primary [ ^ script ]
 *   primary  := number | letter | \pi | greek | ( sum ) | { sum } | \frac arg arg
 *             | \sqrt [ [ sum ] ] arg | function
 *   function := \sin | \cos | ... [ ^ script ] ( ( sum ) [ ^ script ] | implicit argument )
 *   letter   := a | ... | z
 */
/** MathJSON: a number, a symbol, or `[operator, ...operands]`. */
export type MathJson = number | string | MathJson[];

/** Functions whose LaTeX command maps straight to a MathJSON operator of one argument. */
const FUNCTIONS: Record<string, string> = {
  '\\sin': 'Sin', '\\cos': 'Cos', '\\tan': 'Tan', '\\cot': 'Cot', '\\sec': 'Sec', '\\csc': 'Csc',
  '\\ln': 'Ln', '\\log': 'Log',
};
/**
 * A trigonometric function ends another's implicit argument (`\sin x\cos x` is a product);
 * nothing ends a logarithm's there (`\ln x\sin x` is `\ln(x\sin x)`).
 */
const TRIG = new Set(['\\sin', '\\cos', '\\tan', '\\cot', '\\sec', '\\csc']);
/** Constants, and Greek letters the Compute Engine reads as plain symbols (not `\gamma`, `\varphi`: constants there). */
const SYMBOLS: Record<string, string> = {
  '\\pi': 'Pi', '\\alpha': 'alpha', '\\beta': 'beta', '\\theta': 'theta', '\\lambda': 'lambda',
  '\\mu': 'mu', '\\sigma': 'sigma', '\\omega': 'omega', '\\phi': 'phi', '\\delta': 'delta',
};
const MULTIPLY = new Set(['\\cdot', '\\times', '*']);
/** Beyond this nesting the Compute Engine's parser decides (it runs under the CAS deadline). */
const MAX_DEPTH = 32;
/** Numbers that a JavaScript number holds exactly as written; longer ones go to the Compute Engine. */
const MAX_DIGITS = 15;

/** The MathJSON the Compute Engine would read from `latex`, or null when outside the grammar. */
export function fastLatexToJson(latex: string): MathJson | null {
  const equals = latex.indexOf('=');
  if (equals >= 0) {
    // An equation `l = r` of two sums: `["Equal", l, r]`, as the Compute Engine reads it.
    if (latex.indexOf('=', equals + 1) >= 0) return null;
    const [left, right] = [fastLatexToJson(latex.slice(0, equals)), fastLatexToJson(latex.slice(equals + 1))];
    return left === null || right === null ? null : ['Equal', left, right];
  }
  if (SCIENTIFIC.test(latex)) return null;
  const tokens = tokenize(latex);
  if (tokens === null || tokens.length === 0) return null;
  const reader = new Reader(tokens);
  try {
    const expr = reader.sum();
    return reader.atEnd() ? expr : null;
  } catch (err) {
    if (err === UNSUPPORTED) return null;
    throw err;
  }
}

/** Thrown to leave the grammar; one shared value, since building an Error (its stack) costs more than parsing. */
const UNSUPPORTED = Symbol('outside the fast grammar');

const NUMBER = /\d+(?:\.\d+)?/y;
/** `1.5\times10^{3}` is one number literal to the Compute Engine: not in the grammar. */
const SCIENTIFIC = /(?:\\times|\\cdot|\*) *10 *\^/;
const COMMAND = /\\[a-zA-Z]+/y;
const PUNCTUATION = /[a-zA-Z+\-*/^(){}[\]]/;

/** Tokens: digits runs (`12.5`), single letters, commands (`\frac`), single punctuation characters. */
function tokenize(s: string): string[] | null {
  const tokens: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ') {
      i++;
    } else if (c >= '0' && c <= '9') {
      // `1 000` is one number to the Compute Engine (spaces group digits): not in the grammar.
      if (tokens.length > 0 && isNumber(tokens[tokens.length - 1])) return null;
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(s)!;
      tokens.push(m[0]);
      i += m[0].length;
      // `3e10` is scientific notation there, and `0.1(6)` a repeating decimal: not in the grammar.
      const after = s.slice(i, i + 4);
      if (/^ *[eE]/.test(after) || (m[0].includes('.') && /^ *\(/.test(after))) return null;
    } else if (c === '\\') {
      COMMAND.lastIndex = i;
      const m = COMMAND.exec(s);
      if (!m) return null; // `\{`, `\,` and other escapes: not in the grammar
      tokens.push(m[0]);
      i += m[0].length;
    } else if (PUNCTUATION.test(c)) {
      tokens.push(c);
      i++;
    } else {
      return null;
    }
  }
  return tokens;
}

class Reader {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: string[]) {}

  atEnd(): boolean {
    return this.index >= this.tokens.length;
  }

  sum(): MathJson {
    this.enter();
    const expr = this.additive();
    this.depth--;
    return expr;
  }

  /**
   * A sum, nested the way the Compute Engine's parser nests it, so that its canonical form (and
   * the order of terms in it) comes out the same: `-` takes one term and does not fold
   * (`a - b - c` → `Add(Add(a, -b), -c)`); `+` reads the whole rest of the sum and folds it in
   * (`a + b - c` → `Add(a, b, -c)`).
   */
  private additive(): MathJson {
    let expr = this.signedProduct();
    while (this.peek() === '-') expr = ['Add', expr, this.signedProduct()];
    if (this.peek() !== '+') return expr;
    this.index++;
    return foldAdd(expr, this.additive());
  }

  /**
   * A product, negated when a minus sign leads it. The Compute Engine binds a minus to the first
   * factor only (`-2x` is `(-2)x`, `-x^2` is `-(x^2)`); the value is the same, and keeping its
   * shape keeps its canonical form (`-2x` → `Multiply(-2, x)`).
   */
  private signedProduct(): MathJson {
    const negate = this.peek() === '-';
    if (negate) this.index++;
    return this.product(negate);
  }

  private product(negate: boolean): MathJson {
    const factors = [this.quotient(negate)];
    while (MULTIPLY.has(this.peek() ?? '')) {
      this.index++;
      factors.push(this.quotient(false));
    }
    return factors.length === 1 ? factors[0] : ['Multiply', ...factors];
  }

  private quotient(negate: boolean): MathJson {
    let expr = this.juxt(negate);
    while (this.peek() === '/') {
      this.index++;
      expr = ['Divide', expr, this.juxt(false)];
    }
    return expr;
  }

  /** `2x`, `(x+1)(x-1)`, `2\sin x\cos x`: the Compute Engine's InvisibleOperator decides what it means. */
  private juxt(negate: boolean): MathJson {
    const first = this.power();
    const items = [negate ? ['Negate', first] : first];
    while (this.startsPrimary()) items.push(this.power());
    return items.length === 1 ? items[0] : ['InvisibleOperator', ...items];
  }

  private power(): MathJson {
    const base = this.primary();
    if (this.peek() !== '^') return base;
    this.index++;
    const exponent = this.script();
    if (this.peek() === '^' || this.peek() === '_') throw UNSUPPORTED; // `x^2^3`
    return ['Power', base, exponent];
  }

  private primary(): MathJson {
    const t = this.next();
    if (t === undefined) throw UNSUPPORTED;
    if (isNumber(t)) return numberJson(t);
    if (isLetter(t)) return t;
    if (t in SYMBOLS) return SYMBOLS[t];
    if (t === '(') {
      const inner = this.sum();
      this.expect(')');
      return ['Delimiter', inner];
    }
    if (t === '{') return this.rest('}');
    if (t === '\\frac') {
      const num = this.arg();
      return ['Divide', num, this.arg()];
    }
    if (t === '\\sqrt') {
      if (this.peek() !== '[') return ['Sqrt', this.arg()];
      this.index++;
      const index = this.rest(']');
      return ['Root', this.arg(), index];
    }
    if (t in FUNCTIONS) return this.func(FUNCTIONS[t]);
    throw UNSUPPORTED;
  }

  /**
   * `\sin(x)`, `\sin x`, `\sin 2x`, `\sin^2 x`, `\sin(x)^2`. Parentheses close the argument. An
   * argument without them runs over numbers, letters and symbols (with their powers) and must end
   * the term: the Compute Engine extends it over `\cdot`, `/`, `\sqrt`... (`\sin x\cdot y` is
   * `\sin(xy)`), which this reader leaves to it.
   */
  private func(operator: string): MathJson {
    let exponent: MathJson | null = null;
    if (this.peek() === '^') {
      if (operator === 'Ln' || operator === 'Log') throw UNSUPPORTED; // `\ln^2 x` reads oddly there
      this.index++;
      exponent = this.script();
    }
    let arg: MathJson;
    if (this.peek() === '(') {
      this.index++;
      arg = this.rest(')');
      if (exponent === null && this.peek() === '^') {
        this.index++;
        exponent = this.script();
      }
    } else {
      const items: MathJson[] = [];
      while (this.startsImplicitArgument()) items.push(this.power());
      if (items.length === 0 || !this.endsImplicitArgument(operator)) throw UNSUPPORTED;
      arg = items.length === 1 ? items[0] : ['InvisibleOperator', ...items];
    }
    return exponent === null ? [operator, arg] : ['Power', [operator, arg], exponent];
  }

  /** A `\frac`/`\sqrt` argument: `{...}`, or one digit or letter (`\frac12`, `\sqrt2`). */
  private arg(): MathJson {
    const t = this.peek();
    if (t === '{') {
      this.index++;
      return this.rest('}');
    }
    return this.singleCharacter();
  }

  /** A superscript: `{...}`, one digit (`x^23` is `x^2 \cdot 3`), one letter or a symbol. */
  private script(): MathJson {
    const t = this.peek();
    if (t === '{') {
      this.index++;
      return this.rest('}');
    }
    if (t !== undefined && t in SYMBOLS) return SYMBOLS[this.next()!];
    return this.singleCharacter();
  }

  /** One digit or letter; a longer digit run is split, its rest left for the next token. */
  private singleCharacter(): MathJson {
    const t = this.peek();
    if (t === undefined) throw UNSUPPORTED;
    if (isLetter(t)) return this.next()!;
    if (!/^\d+$/.test(t)) throw UNSUPPORTED;
    if (t.length === 1) this.index++;
    else this.tokens[this.index] = t.slice(1);
    return Number(t[0]);
  }

  /** A sum up to the closing token. */
  private rest(close: string): MathJson {
    const inner = this.sum();
    this.expect(close);
    return inner;
  }

  private startsPrimary(): boolean {
    const t = this.peek();
    if (t === undefined) return false;
    return isNumber(t) || isLetter(t) || t === '(' || t === '{' || t in SYMBOLS || t in FUNCTIONS || t === '\\frac' || t === '\\sqrt';
  }

  private startsImplicitArgument(): boolean {
    const t = this.peek();
    return t !== undefined && (isNumber(t) || isLetter(t) || t in SYMBOLS);
  }

  private endsImplicitArgument(operator: string): boolean {
    const t = this.peek();
    if (t === undefined || t === '+' || t === '-' || t === ')' || t === '}' || t === ']') return true;
    return TRIG.has(t) && operator !== 'Ln' && operator !== 'Log';
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw UNSUPPORTED;
  }

  private expect(token: string): void {
    if (this.next() !== token) throw UNSUPPORTED;
  }

  private peek(): string | undefined {
    return this.tokens[this.index];
  }

  private next(): string | undefined {
    return this.tokens[this.index++];
  }
}

/** `Add` with `Add` operands spliced in. */
function foldAdd(lhs: MathJson, rhs: MathJson): MathJson {
  const terms = (e: MathJson) => (Array.isArray(e) && e[0] === 'Add' ? e.slice(1) : [e]);
  return ['Add', ...terms(lhs), ...terms(rhs)];
}

function isNumber(t: string): boolean {
  return t[0] >= '0' && t[0] <= '9';
}

/** Lower-case letters only: capitals are often functions to the Compute Engine (`N`, `D`). */
function isLetter(t: string): boolean {
  return t.length === 1 && t >= 'a' && t <= 'z';
}

/** Integers and decimals as JavaScript numbers, as the Compute Engine's parser gives them. */
function numberJson(t: string): MathJson {
  if (t.replace('.', '').replace(/^0+/, '').length > MAX_DIGITS) throw UNSUPPORTED;
  return Number(t);
}
