import { matchingBrace } from '../extract';

/**
 * Turns an extracted answer into plain LaTeX that the number reader, the structure splitter and
 * the CAS all understand. It only removes presentation: delimiters, spacing, `\left`/`\right`,
 * units, degree signs. It never changes a value.
 */

/**
 * Non-ASCII numerals (fullwidth ３, Arabic-Indic ٣, mathematical bold 𝟑, superscript ³, ½...) are
 * rejected, not normalised: the model writes ASCII digits, and a reward that read look-alikes
 * as digits would teach it nothing useful while widening what the checker has to trust.
 */
const FOREIGN_NUMERAL = /[^\x00-\x7F]/;
const ANY_NUMERAL = /\p{N}/u;

export function hasForeignNumeral(text: string): boolean {
  if (!FOREIGN_NUMERAL.test(text)) return false;
  for (const ch of text) if (ch.charCodeAt(0) > 0x7f && ANY_NUMERAL.test(ch)) return true;
  return false;
}

/** The few non-ASCII math symbols a model writes in plain text, deliberately read as LaTeX. */
const UNICODE_SYMBOLS: Record<string, string> = {
  '\u2212': '-', // minus sign
  '\u2013': '-', // en dash, used as a minus
  '\u00d7': '\\times ',
  '\u22c5': '\\cdot ',
  '\u00b7': '\\cdot ',
  '\u00f7': '\\div ',
  '\u03c0': '\\pi ',
  '\u221e': '\\infty ',
  '\u221a': '\\sqrt',
  '\u00b0': '^\\circ',
  '\u2264': '\\le ',
  '\u2265': '\\ge ',
  '\u222a': '\\cup ',
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
};
const UNICODE_SYMBOL = new RegExp(`[${Object.keys(UNICODE_SYMBOLS).join('')}]`, 'g');

/**
 * Spacing and sizing commands: pure presentation. `\left.` is an invisible delimiter. A matrix's
 * row break `\\` is matched first so that it is kept (`\\ 3` is not `\` + the space `\ `).
 */
const PRESENTATION = /\\\\|\\left\.|\\right\.|\\(?:left|right|[bB]igg?[lr]?|displaystyle|textstyle)(?![a-zA-Z])|\\[,;:! ]|~/g;
/** Math-mode delimiters: `$`, `\(`, `\)`, `\[`, `\]`; `\$` is a dollar sign. */
const DELIMITERS = /\\\$|\$|\\\(|\\\)|\\\[|\\\]/g;
const FRACTION_VARIANTS = /\\[dt]frac(?![a-zA-Z])/g;
const BINOMIAL_VARIANTS = /\\[dt]binom(?![a-zA-Z])/g;
const DEGREES = /\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree/g;
const TEXT_COMMANDS = ['\\text', '\\textbf', '\\textrm', '\\mathrm', '\\mbox', '\\textit', '\\mathbf'];
/** Plain-word units dropped after a number: `5 cm`, `12 inches`. */
const UNIT_WORDS = new Set([
  'cm', 'mm', 'km', 'm', 'kg', 'g', 'mg', 'l', 'ml', 's', 'sec', 'min', 'h', 'hr', 'hrs',
  'inch', 'inches', 'ft', 'feet', 'foot', 'yard', 'yards', 'mile', 'miles', 'meter', 'meters',
  'metre', 'metres', 'second', 'seconds', 'minute', 'minutes', 'hour', 'hours', 'day', 'days',
  'week', 'weeks', 'year', 'years', 'dollar', 'dollars', 'cent', 'cents', 'degree', 'degrees',
  'unit', 'units', 'mph', 'cm^2', 'm^2', 'cm^3', 'm^3', 'sq', 'square', 'cubic',
]);

/** Presentation-free LaTeX for a whole answer. */
export function cleanAnswer(answer: string): string {
  let s = answer;
  if (FOREIGN_NUMERAL.test(s)) s = s.replace(UNICODE_SYMBOL, (ch) => UNICODE_SYMBOLS[ch]);
  s = s.replace(DELIMITERS, '');
  // A matrix's row breaks `\\` stay; the callback costs, so only when there may be one.
  s = s.includes('\\\\') ? s.replace(PRESENTATION, (m) => (m === '\\\\' ? m : ' ')) : s.replace(PRESENTATION, ' ');
  s = s.replace(FRACTION_VARIANTS, '\\frac');
  if (s.includes('binom')) s = s.replace(BINOMIAL_VARIANTS, '\\binom');
  s = s.replace(DEGREES, '').replace(/\{,\}/g, ',');
  s = replaceTextCommands(s);
  s = s.replace(/\s+/g, ' ').trim();
  s = unwrapBoxed(s);
  s = s.replace(/\.$/, '').trim();
  return dropUnitWord(s);
}

/**
 * `\text{...}` and friends. The whole answer in one → its content (`\text{(B)}` → `(B)`).
 * `\text{ or }` / `\text{ and }` between answers → a comma (a list). Anywhere else the text is a
 * unit or a remark (`5\text{ cm}`) and is dropped.
 */
function replaceTextCommands(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const cmd = s[i] === '\\' ? TEXT_COMMANDS.find((c) => s.startsWith(c, i) && !/[a-zA-Z]/.test(s[i + c.length] ?? '')) : undefined;
    if (!cmd) {
      out += s[i++];
      continue;
    }
    let open = i + cmd.length;
    while (s[open] === ' ') open++;
    const close = s[open] === '{' ? matchingBrace(s, open) : null;
    if (close === null) {
      out += s[i++];
      continue;
    }
    const content = s.slice(open + 1, close);
    const word = content.trim().toLowerCase();
    if (i === 0 && close === s.length - 1) out += content;
    else if (word === 'or' || word === 'and') out += ',';
    else if (cmd === '\\mathbf') out += content; // bold symbols (vectors) are values, not units
    else if (out.trim() === '') out += content; // leading text: `\text{A} ` is the answer itself
    else out += ' ';
    i = close + 1;
  }
  return out;
}

/** `\boxed{x}` as the whole answer (an answer tag that also boxed it) → `x`. */
function unwrapBoxed(s: string): string {
  for (const cmd of ['\\boxed', '\\fbox']) {
    if (!s.startsWith(cmd + '{')) continue;
    const close = matchingBrace(s, cmd.length);
    if (close === s.length - 1) return s.slice(cmd.length + 1, close).trim();
  }
  return s;
}

function dropUnitWord(s: string): string {
  const space = s.lastIndexOf(' ');
  if (space <= 0) return s;
  const word = s.slice(space + 1).toLowerCase();
  if (!/[0-9}]/.test(s[space - 1])) return s;
  if (word === 'percent') return s.slice(0, space) + '%';
  return UNIT_WORDS.has(word) ? s.slice(0, space) : s;
}

/**
 * One value of an answer, with its presentation read off: `x = 3` → `3`, `50\%` → 50 marked as
 * a percentage. For `v = a = b` (a lone variable set equal to a chain) the last side counts.
 */
export interface Scalar {
  latex: string;
  percent: boolean;
  /** The text before `v =` was read off, for when the equation itself is the answer. */
  equation: string | null;
}

const VARIABLE_PREFIX = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?(?:\([a-zA-Z]\))?\s*=/;

export function readScalar(text: string): Scalar {
  let s = text.trim();
  const equation = VARIABLE_PREFIX.test(s) ? s : null;
  if (equation) s = s.slice(s.lastIndexOf('=') + 1).trim();
  const percent = s.endsWith('%');
  if (percent) s = s.slice(0, s.endsWith('\\%') ? -2 : -1).trim();
  return { latex: s, percent, equation };
}
