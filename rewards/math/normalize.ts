import { matchingBrace } from './braces';
import { splitTopLevel } from './structure';

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

/**
 * Text escaped twice on its way here (JSON inside JSON) shows every command with two backslashes:
 * `\\frac{1}{2}`. When no command has a single backslash, every `\\` is halved, and a `\n` then
 * left outside a command is the line break it stood for. A matrix row break `\\` comes with a
 * single-backslash `\begin`, so real LaTeX is never touched.
 */
const DOUBLED_COMMAND = /\\\\[a-zA-Z]/;
const SINGLE_COMMAND = /(?<!\\)\\[a-zA-Z]/;

export function undoDoubleEscapes(text: string): string {
  if (!DOUBLED_COMMAND.test(text) || SINGLE_COMMAND.test(text)) return text;
  return text.replace(/\\\\/g, '\\').replace(/\\n(?![a-zA-Z])/g, '\n');
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
  '\u20ac': '', // euro sign: a unit, like `\$`
  '\u00a3': '', // pound sign
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
};
const UNICODE_SYMBOL = new RegExp(`[${Object.keys(UNICODE_SYMBOLS).join('')}]`, 'g');

/**
 * Spacing and sizing commands: pure presentation. `\left.` is an invisible delimiter. A matrix's
 * row break `\\` is matched first so that it is kept (`\\ 3` is not `\` + the space `\ `).
 * `\quad` is read even when a letter follows (`\quadx_2`: a missing space, not a command).
 */
const PRESENTATION = /\\\\|\\left\.|\\right\.|\\(?:left|right|[bB]igg?[lr]?|displaystyle|textstyle)(?![a-zA-Z])|\\q?quad|\\[,;: ]|~/g;
/**
 * Thousands separators: `{,}` and `,\!` (`11,\! 111` is 11111: `\!` is a negative space that
 * pulls the groups together). A `\!` elsewhere is removed without leaving a space.
 */
const GROUP_SEPARATOR = /\s*\{\s*,\s*\}\s*|,\s*\\!\s*/g;
const NEGATIVE_SPACE = /\\!/g;
/** Math-mode delimiters: `$`, `\(`, `\)`, `\[`, `\]`; `\$` is a dollar sign. */
const DELIMITERS = /\\\$|\$|\\\(|\\\)|\\\[|\\\]/g;
const FRACTION_VARIANTS = /\\[dtc]frac(?![a-zA-Z])/g;
const BINOMIAL_VARIANTS = /\\[dt]binom(?![a-zA-Z])/g;
const DEGREES = /\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree/g;
const TEXT_COMMANDS = ['\\text', '\\textbf', '\\textrm', '\\textnormal', '\\mathrm', '\\mbox', '\\textit', '\\mathbf'];
/** Plain-word units dropped after a number: `5 cm`, `12 inches`. */
export const UNIT_WORDS = new Set([
  'cm', 'mm', 'km', 'm', 'kg', 'g', 'mg', 'l', 'ml', 's', 'sec', 'min', 'h', 'hr', 'hrs',
  'inch', 'inches', 'ft', 'feet', 'foot', 'yard', 'yards', 'mile', 'miles', 'meter', 'meters',
  'metre', 'metres', 'second', 'seconds', 'minute', 'minutes', 'hour', 'hours', 'day', 'days',
  'week', 'weeks', 'year', 'years', 'dollar', 'dollars', 'cent', 'cents', 'degree', 'degrees',
  'unit', 'units', 'mph', 'cm^2', 'm^2', 'cm^3', 'm^3', 'sq', 'square', 'cubic',
]);
/** Words after a number that make it a percentage: `28 percent`, `28 pct`. */
export const PERCENT_WORDS = new Set(['percent', 'percentage', 'pct']);

/** Presentation-free LaTeX for a whole answer. */
export function cleanAnswer(answer: string): string {
  let s = undoDoubleEscapes(answer);
  if (FOREIGN_NUMERAL.test(s)) s = s.replace(UNICODE_SYMBOL, (ch) => UNICODE_SYMBOLS[ch]);
  s = s.replace(DELIMITERS, '');
  s = s.replace(GROUP_SEPARATOR, ',').replace(NEGATIVE_SPACE, '');
  // A matrix's row breaks `\\` stay; the callback costs, so only when there may be one.
  s = s.includes('\\\\') ? s.replace(PRESENTATION, (m) => (m === '\\\\' ? m : ' ')) : s.replace(PRESENTATION, ' ');
  s = s.replace(FRACTION_VARIANTS, '\\frac');
  if (s.includes('binom')) s = s.replace(BINOMIAL_VARIANTS, '\\binom');
  s = s.replace(DEGREES, '');
  s = replaceTextCommands(s);
  s = s.replace(/\s+/g, ' ').trim();
  s = unwrapBoxed(s);
  if (s.includes('or') || s.includes('and')) s = s.replace(WORD_SEPARATOR, ',');
  return tidyItem(s);
}

/**
 * `or` / `and` between answers, written bare: `x=1 or x=2`, `(11,7)or(7,11)`, `W(x)=1orW(x)=-1`.
 * Not inside a word or command (`\land`, `random`): no letter or backslash before it, and no
 * lower-case letter after it.
 */
const WORD_SEPARATOR = /\s*(?<![a-zA-Z\\])(?:or|and)(?![a-z])\s*/g;

/** One answer or list item without its trailing period and unit word: `5 cm.` → `5`. */
export function tidyItem(item: string): string {
  return dropUnitWord(item.trim().replace(/\.$/, '').trim());
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
  if (PERCENT_WORDS.has(word)) return s.slice(0, space) + '%';
  return UNIT_WORDS.has(word) ? s.slice(0, space) : s;
}

/** One value with its percent sign read off: `50\%` → 50, marked as a percentage. */
export interface Scalar {
  latex: string;
  percent: boolean;
}

export function readScalar(text: string): Scalar {
  let s = text.trim();
  const percent = s.endsWith('%');
  if (percent) s = s.slice(0, s.endsWith('\\%') ? -2 : -1).trim();
  return { latex: s, percent };
}

/**
 * A name that can label an answer: `x`, `AB`, `x_1`, `S_{MBCN}`, `f(x)`, `\theta`; as a label it
 * may also be a tuple of names `(p, q)`, `|AB|`, a ratio `A:B`, or a fraction `\frac{NO}{BO}`.
 */
const NAME = String.raw`(?:[a-zA-Z]+|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)*(?:\([a-zA-Z0-9]*\))?`;
const LABEL = new RegExp(String.raw`^(?:${NAME}|\(${NAME}(?: ?, ?${NAME})+\)|\|${NAME}\||${NAME}(?: ?: ?${NAME})+|\\frac\{${NAME}\}\{${NAME}\})$`);
const MEMBERSHIP = new RegExp(String.raw`^${NAME} ?\\in (.+)$`);
/** Commands that still leave a side a plain computation: `\frac{1}{2} = \frac{10}{9}`. */
const NUMERIC_COMMANDS = /\\(?:frac|sqrt|cdot|times|div|pi)(?![a-zA-Z])/g;

/**
 * What a single answer states, with its label read off:
 * - `x \in S` → S;
 * - `v \approx a` → a; `e \approx a` → e (the exact value before an approximation counts);
 * - `a = b = c` (two or more `=`) → c, the end of the computation;
 * - `v = a` with v a name (see LABEL) → a, keeping the equation for when it is itself the answer;
 * - `a = b` with neither side holding a letter → b (a computation and its result);
 * - any other equation stays as it is (`x^2 + y^2 = 1`).
 */
export function readOff(text: string): { value: string; equation: string | null } {
  const member = MEMBERSHIP.exec(text);
  if (member) return { value: member[1], equation: null };
  let s = text;
  const approx = splitTopLevel(s, '\\approx');
  if (approx.length > 1) s = LABEL.test(approx[0]) ? approx[1] : approx[0];
  const sides = equationSides(s);
  if (sides.length < 2) return { value: s, equation: null };
  if (sides.length > 2) return { value: sides[sides.length - 1], equation: null };
  const [left, right] = sides;
  if (LABEL.test(left)) return { value: right, equation: s };
  const letters = (side: string) => /[a-zA-Z]/.test(side.replace(NUMERIC_COMMANDS, ''));
  if (!letters(left) && !letters(right)) return { value: right, equation: null };
  return { value: s, equation: null };
}

/** The sides of `a = b = c` outside brackets; `<=`, `>=` and `!=` are relations, not `=`. */
function equationSides(s: string): string[] {
  const parts = splitTopLevel(s, '=');
  const sides = [parts[0]];
  for (let i = 1; i < parts.length; i++) {
    if (/[<>!]$/.test(parts[i - 1])) sides[sides.length - 1] += `=${parts[i]}`;
    else sides.push(parts[i]);
  }
  return sides;
}
