/**
 * Reads plain numbers without the CAS: most answers are numbers, and this path must stay cheap
 * (tens of thousands of comparisons a second).
 *
 * Accepted: integers (`1,000` or `1 000` with thousands groups of three), decimals (`.5`, `2.`), scientific
 * notation (`1.5e-3`, `1.5\times10^{3}`, `1.5 \cdot 10^3`), fractions of such numbers (`3/4`,
 * `\frac{3}{4}`, `\frac34`, `-\frac{3}{4}`, `\frac{-3}{4}`), mixed numbers (`2\frac{1}{2}`, `2 1/2`).
 * Anything else is not a plain number and goes to the CAS.
 */
export interface PlainNumber {
  value: number;
  /** The exact digits of an integer answer, so that huge integers compare exactly, not as floats. */
  integer: bigint | null;
}

const DECIMAL = /^([+-]?)([1-9]\d{0,2}(?:(?:,\d{3})+|(?: \d{3})+)|\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const LATEX_FRACTION = /^([+-]?)\\frac(?:\{([^{}]+)\}\{([^{}]+)\}|(\d)(\d))$/;
const MIXED_LATEX = /^([+-]?)(\d+) ?\\frac(?:\{(\d+)\}\{(\d+)\}|(\d)(\d))$/;
const MIXED_PLAIN = /^([+-]?)(\d+) (\d+)\/(\d+)$/;
const POWER_OF_TEN = /^(.*?) ?(?:\\times|\\cdot|\*|x) ?10\^(?:\{([+-]?\d+)\}|(\d))$/;

export function plainNumber(text: string): PlainNumber | null {
  const s = text.trim();
  if (s.length === 0 || s.length > 64) return null;
  return decimal(s) ?? fraction(s) ?? mixed(s) ?? scientific(s);
}

function decimal(s: string): PlainNumber | null {
  const m = DECIMAL.exec(s);
  if (!m || (m[2] === undefined && !m[3])) return null;
  const digits = s.replace(/[, ]/g, '');
  const value = Number(digits);
  if (!Number.isFinite(value)) return null; // 1e400: past float range, the CAS decides
  const integer = m[3] === undefined && m[4] === undefined ? BigInt(digits) : null;
  return { value, integer };
}

function fraction(s: string): PlainNumber | null {
  let sign = 1;
  let num: string | undefined;
  let den: string | undefined;
  const latex = LATEX_FRACTION.exec(s);
  if (latex) {
    sign = latex[1] === '-' ? -1 : 1;
    num = latex[2] ?? latex[4];
    den = latex[3] ?? latex[5];
  } else {
    const slash = s.indexOf('/');
    if (slash < 0 || s.indexOf('/', slash + 1) >= 0) return null;
    num = s.slice(0, slash).trim();
    den = s.slice(slash + 1).trim();
  }
  const n = num === undefined ? null : decimal(num.trim());
  const d = den === undefined ? null : decimal(den.trim());
  if (!n || !d || d.value === 0) return null;
  return { value: (sign * n.value) / d.value, integer: null };
}

function mixed(s: string): PlainNumber | null {
  const m = MIXED_LATEX.exec(s) ?? MIXED_PLAIN.exec(s);
  if (!m) return null;
  const [whole, num, den] = [m[2], m[3] ?? m[5], m[4] ?? m[6]].map(Number);
  if (den === 0) return null;
  const magnitude = whole + num / den;
  return { value: m[1] === '-' ? -magnitude : magnitude, integer: null };
}

function scientific(s: string): PlainNumber | null {
  const m = POWER_OF_TEN.exec(s);
  if (!m) return null;
  const mantissa = decimal(m[1]);
  if (!mantissa) return null;
  const value = mantissa.value * 10 ** Number(m[2] ?? m[3]);
  return Number.isFinite(value) ? { value, integer: null } : null;
}
