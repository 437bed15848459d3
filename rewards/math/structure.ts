import { matrixArithmetic } from './matrix-arithmetic';

/**
 * Splits a cleaned answer into its outer shape, so that containers are compared by their own
 * rules and only single values reach the number reader or the CAS:
 *
 * - `(a, b)`, `[a, b]`, `[a, b)`, `(a, b]`: a bracketed sequence, ordered. Tuples, points and
 *   intervals are the same thing here: items compare in order and the brackets must match, so
 *   open and closed ends matter and `(1, 2)` the point equals `(1, 2)` the open interval.
 * - `\{a, b\}`, or `{a, b}` with bare braces: a set, unordered, repeats ignored.
 * - `a, b` with no brackets: a list of answers (`x = 1, x = 2`), compared as a set; empty items
 *   (`19, 46, and 82` leaves one) are dropped. A bare `1,000` (digit groups of exactly three) is
 *   one number, not a list.
 * - `a; b`: a list too, whose items may themselves hold commas (`p=5,q=2; p=7,q=2`): such an item
 *   is a tuple. Inside brackets, `;` separates like `,`: `(0;-2;6)`.
 * - `a \pm b` (one `\pm` or `\mp`): the two answers `a + b` and `a - b`, as a list.
 * - `A \cup B`: a union, unordered.
 * - `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (also `bmatrix`, `Bmatrix`, `matrix`, and
 *   `array` inside `[...]` or `(...)`: the brackets are presentation): a matrix, compared cell by
 *   cell. `vmatrix` is a determinant, a value. Sums and products of numeric matrices are worked
 *   out first (matrix-arithmetic.ts).
 * - anything else, including `(x + 1)`: one value.
 */
export type Shape =
  | { kind: 'value'; text: string }
  | { kind: 'sequence'; open: string; close: string; items: string[] }
  | { kind: 'set'; items: string[] }
  | { kind: 'union'; items: string[] }
  | { kind: 'matrix'; rows: string[][] };

const THOUSANDS = /^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/;
const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);

export function shapeOf(text: string): Shape {
  const s = text.trim();
  const matrix = matrixRows(s) ?? matrixArithmetic(s);
  if (matrix !== null) return { kind: 'matrix', rows: matrix };
  const union = splitTopLevel(s, '\\cup');
  if (union.length > 1) return { kind: 'union', items: union };

  if (s.startsWith('\\{') && s.endsWith('\\}') && closesAtEnd(s, 0)) return { kind: 'set', items: listItems(s.slice(2, -2)) };
  if (s[0] === '{' && s.endsWith('}') && closesAtEnd(s, 0)) {
    const items = listItems(s.slice(1, -1));
    return items.length > 1 ? { kind: 'set', items } : shapeOf(s.slice(1, -1)); // `{5}` is only a group
  }
  if ((s[0] === '(' || s[0] === '[') && (s.endsWith(')') || s.endsWith(']')) && closesAtEnd(s, 0)) {
    const inner = s.slice(1, -1);
    const bracketed = matrixRows(inner.trim());
    if (bracketed !== null) return { kind: 'matrix', rows: bracketed };
    let items = splitTopLevel(inner, ',');
    if (items.length === 1) items = splitTopLevel(inner, ';');
    if (items.length > 1) return { kind: 'sequence', open: s[0], close: s[s.length - 1], items };
    return s[0] === '(' && s.endsWith(')') ? shapeOf(items[0]) : { kind: 'value', text: s };
  }
  if (!THOUSANDS.test(s)) {
    const items = listItems(s);
    if (items.length > 1) return { kind: 'set', items };
  }
  return { kind: 'value', text: s };
}

/**
 * The items of a list: split at top-level `;` (an item with commas is then a tuple) or else at
 * commas; empty items dropped; an item with one `\pm` counted as its two answers.
 */
function listItems(s: string): string[] {
  const groups = splitTopLevel(s, ';');
  const items = groups.length > 1 ? groups.map((g) => (splitTopLevel(g, ',').length > 1 ? `(${g})` : g)) : splitTopLevel(s, ',');
  return items.filter((item) => item !== '').flatMap(plusMinus);
}

const PLUS_MINUS = /\\(?:pm|mp)(?![a-zA-Z])/g;

/** `a \pm b` → [`a + b`, `a - b`]; anything without exactly one `\pm` or `\mp` stays whole. */
export function plusMinus(item: string): string[] {
  const signs = item.match(PLUS_MINUS);
  if (signs === null || signs.length !== 1) return [item];
  const [first, second] = signs[0] === '\\pm' ? ['+', '-'] : ['-', '+'];
  return [item.replace(PLUS_MINUS, first), item.replace(PLUS_MINUS, second)];
}

/**
 * Pieces of `s` between top-level occurrences of `separator` (outside any bracket or brace).
 * Brackets of any kind pair with closers of any kind, so `[1, 2)` nests correctly.
 */
export function splitTopLevel(s: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const word = /[a-zA-Z]$/.test(separator); // `\cup` must not split `\cupid`; `\\` splits anything
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (depth === 0 && s.startsWith(separator, i) && !(word && /[a-zA-Z]/.test(s[i + separator.length] ?? ''))) {
        parts.push(s.slice(start, i).trim());
        start = i + separator.length;
        i = start - 1;
        continue;
      }
      i++; // `\{` is a bracket here too: skip only the backslash
      if (OPENERS.has(s[i])) depth++;
      else if (CLOSERS.has(s[i])) depth--;
    } else if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) depth--;
    else if (depth === 0 && c === separator) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

const MATRIX = /^\\begin\{([pbB]?matrix|array)\}(?:\{[^{}]*\})?([^]*)\\end\{\1\}$/;

/** The cells of a whole-answer matrix environment, row by row; null when `s` is not one. */
export function matrixRows(s: string): string[][] | null {
  const m = s.startsWith('\\begin{') ? MATRIX.exec(s) : null;
  if (!m || m[2].includes('\\begin')) return null; // nested environments: left to the CAS
  const rows = splitTopLevel(m[2], '\\\\');
  if (rows.length > 1 && rows[rows.length - 1] === '') rows.pop(); // a trailing `\\` ends no row
  return rows.map((row) => splitTopLevel(row, '&'));
}

/** Whether the bracket opened at `open` is closed by the last character of `s`. */
function closesAtEnd(s: string, open: number): boolean {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    let c = s[i];
    if (c === '\\') c = s[++i] ?? '';
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c) && --depth === 0) return i === s.length - 1;
  }
  return false;
}
