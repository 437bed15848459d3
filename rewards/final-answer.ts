import { matchingBrace } from './math/braces';
import { PERCENT_WORDS, UNIT_WORDS, undoDoubleEscapes } from './math/normalize';

/**
 * Reads the final answer out of a block of text: an answer tag's content, a whole response, or
 * a gold that is a worked solution. The same rules serve predictions and golds.
 *
 * In order, the first that applies:
 * 1. A final-answer statement after the last box: after the last "answer is", "answer:" (`The final
 *    answer is $x$`, `Answer: 5`), the math or number right after it (with those joined to it:
 *    "5 or 6" is a list, which a single gold does not equal), else the last one in that sentence.
 * 2. Boxes (`\boxed{}`, `\fbox{}`): the last box, together with the boxes just before it when only
 *    separators stand between them (`\boxed{1} and \boxed{2}`, `\boxed{1}, \boxed{2}`, a label
 *    such as `y_2 =`, or text without words such as `++`): several boxes are one list. An
 *    unclosed last box gives no answer at all: a truncated box is not replaced by an earlier one.
 * 3. Prose (words around the math, see isProse): the last math span (`$..$`, `$$..$$`, `\(..\)`,
 *    `\[..\]`) or plain number, whichever ends last, with those joined to it as a list (spans as
 *    boxes are; numbers by `,`, `and`, `or`); null when there is none. An inline span (`$`, `\(`) broken across lines is not math, and
 *    its content is not read.
 * 4. Otherwise the whole block is the answer (`x^2+1`, `$\frac12$`, `1 and 2`, `Even`).
 * A `%`, `\%`, "percent" or "pct" right after the answer is kept with it: `$28$ %` is 28%.
 *
 * Every step scans the text once, left to right or right to left: linear time on any input.
 */
export function finalAnswer(block: string): string | null {
  const text = undoDoubleEscapes(block);
  const boxes = lastBoxGroup(text);
  if (boxes === UNCLOSED) return null;
  const phrased = afterAnswerPhrase(text, boxes?.end ?? 0);
  if (phrased !== null) return phrased;
  if (boxes !== null) return boxes.answer;
  const spans = mathSpans(text);
  if (isProse(text, spans)) return lastAnswer(text, candidates(text, spans, 0, text.length));
  const whole = text.trim();
  return whole === '' ? null : whole;
}

/** The last box group of `text` (rule 2) and where it ends, UNCLOSED, or null when there is no box. */
export function lastBoxGroup(text: string): { answer: string; end: number } | typeof UNCLOSED | null {
  const boxBefore = boxReader(text);
  const box = boxBefore(text.length);
  if (box === null) return null;
  if (box === UNCLOSED) return UNCLOSED;
  const end = box.end;
  const items = [box.content];
  for (let before = box.start; ; ) {
    const previous = boxBefore(before);
    // A box that ends past `before` holds the later one (`\boxed{\boxed{7}}`): not a list.
    if (previous === null || previous === UNCLOSED || previous.end > before || !onlySeparators(text.slice(previous.end, before))) break;
    items.push(previous.content);
    before = previous.start;
  }
  return { answer: withPercent(items.reverse().join(', '), text, end), end };
}

export const UNCLOSED = Symbol('unclosed box');

/** Text between two boxes longer than this is never only separators. */
const MAX_SEPARATOR = 200;

interface Piece {
  start: number;
  end: number;
  content: string;
}

/**
 * Reads boxes right to left: each call gives the last box starting before `limit` (UNCLOSED when
 * it never closes), for limits that only decrease. Each command name's last position is kept, so
 * the text is searched once in all, not once per box.
 */
function boxReader(text: string): (limit: number) => Piece | typeof UNCLOSED | null {
  const found = new Map<string, number>();
  const lastBefore = (name: string, limit: number) => {
    let at = found.get(name) ?? Infinity;
    if (at >= limit) at = limit > 0 ? text.lastIndexOf(name, limit - 1) : -1;
    // A longer command such as `\boxedx` is not a box: look further left.
    while (at >= 0 && isLetter(text[at + name.length])) at = at > 0 ? text.lastIndexOf(name, at - 1) : -1;
    found.set(name, at);
    return at;
  };
  return (limit) => {
    const [boxed, fbox] = [lastBefore('\\boxed', limit), lastBefore('\\fbox', limit)];
    if (boxed < 0 && fbox < 0) return null;
    const start = Math.max(boxed, fbox);
    return boxAt(text, start, start + (start === boxed ? '\\boxed' : '\\fbox').length);
  };
}

/** The box whose command starts at `start` and whose argument starts at `argument`. */
function boxAt(text: string, start: number, argument: number): Piece | typeof UNCLOSED {
  let i = argument;
  while (text[i] === ' ') i++;
  if (text[i] !== '{') {
    let end = i;
    while (end < text.length && text[end] !== ' ' && text[end] !== '$' && text[end] !== '\n') end++;
    return end > i ? { start, end, content: text.slice(i, end) } : UNCLOSED;
  }
  const close = matchingBrace(text, i);
  if (close === null) return UNCLOSED;
  return { start, end: close + 1, content: text.slice(i + 1, close).trim() };
}

const SEPARATOR_NOISE = /\$|\\[()[\]]|\\q?quad|\\[,;: !]|~|\\text(?:bf|rm|normal)?\s*\{([^{}]*)\}/g;
const TRAILING_LABEL = /(?:[A-Za-z]+|\\[a-zA-Z]+)(?:_\{?[A-Za-z0-9]+\}?)*\s*=\s*$/;
const ENDS_WITH_SEPARATOR = /(?:^|[\s,;])(?:and|or)$|[,;]$/i;

/** Whether the text between two answers only joins them: empty, `,`, `and`, `or`, a label, or no words. */
function onlySeparators(between: string): boolean {
  if (between.length > MAX_SEPARATOR) return false;
  const plain = between.replace(SEPARATOR_NOISE, (_, text: string | undefined) => ` ${text ?? ''} `).replace(TRAILING_LABEL, '').trim();
  return plain === '' || ENDS_WITH_SEPARATOR.test(plain) || !/[a-zA-Z]{2}/.test(plain);
}

/**
 * Math spans of the text, left to right, each scanned once. An inline span holding a line break
 * is kept with `valid: false`: its text is not prose, but it is not an answer either.
 */
function mathSpans(text: string): Array<Piece & { valid: boolean }> {
  const spans: Array<Piece & { valid: boolean }> = [];
  const missing = new Set<string>(); // closers already known to be absent: never searched for again
  const find = (closer: string, from: number) => {
    if (missing.has(closer)) return -1;
    let at = text.indexOf(closer, from);
    while (closer === '$' && at > 0 && text[at - 1] === '\\') at = text.indexOf(closer, at + 1);
    if (at < 0) missing.add(closer);
    return at;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    let opener: string | null = null;
    if (c === '$' && (i === 0 || text[i - 1] !== '\\')) opener = text[i + 1] === '$' ? '$$' : '$';
    else if (c === '\\' && (text[i + 1] === '(' || text[i + 1] === '[')) opener = text.slice(i, i + 2);
    else if (c === '\\') i++; // an escaped character, such as `\$`
    if (opener === null) continue;
    const closer = opener === '\\(' ? '\\)' : opener === '\\[' ? '\\]' : opener;
    const close = find(closer, i + opener.length);
    if (close < 0) {
      i += opener.length - 1;
      continue;
    }
    const content = text.slice(i + opener.length, close);
    const inline = opener === '$' || opener === '\\(';
    spans.push({ start: i, end: close + closer.length, content: content.trim(), valid: !(inline && content.includes('\n')) });
    i = close + closer.length - 1;
  }
  return spans;
}

/**
 * Rule 1: after the last "answer" (a whole word) that comes after `after` and is stated (`is`,
 * `:`, `=` follows), the math or number that follows at once, or else the last one before the
 * sentence ends. Null when there is no such statement or nothing in it.
 */
function afterAnswerPhrase(text: string, after: number): string | null {
  const lower = text.toLowerCase();
  let at = lower.lastIndexOf('answer');
  while (at >= after && (isLetter(text[at - 1]) || isLetter(text[at + 6]))) at = at > 0 ? lower.lastIndexOf('answer', at - 1) : -1;
  if (at < after) return null;
  // Math is paired afresh in the phrase: a stray `$` earlier (a price) must not shift the pairs.
  const tail = text.slice(at + 'answer'.length, at + 'answer'.length + MAX_SENTENCE);
  const spans = mathSpans(tail);
  // Only a statement counts (`answer is`, `answer:`), not a mention (`the answer using 3 methods`).
  const lead = PHRASE_LEAD.exec(tail.slice(0, 40));
  if (lead === null) return null;
  const list = candidates(tail, spans, 0, endOfSentence(tail, spans));
  return answerAt(tail, list, lead[0].length) ?? lastAnswer(tail, list);
}

const PHRASE_LEAD = /^[\s*"]*(?:[:=]|is\b|was\b|(?:would|will|should) be\b)[\s*:="]*/i;

/** Index of the end of the first sentence of `text`: `.`, `!` or `?` before a space, or a blank line. */
function endOfSentence(text: string, spans: Piece[]): number {
  for (const m of text.matchAll(/[.!?](?=\s|$)|\n\s*\n/g)) {
    // A period inside a math span (`$x = 3.$`) ends no sentence.
    const span = spanBefore(spans, m.index!);
    if (span === null || span.end <= m.index!) return m.index!;
  }
  return text.length;
}

/** A final-answer sentence longer than this is not read past. */
const MAX_SENTENCE = 2_000;

// A number not glued to a word (`AZYUK2A` holds none): `1,000.99`, `2,74`, `-3`, `2/3`.
const NUMBER = /(?<![\w.,/])[+-]?(?:\d+(?:,\d+)*(?:\.\d+)?|\.\d+)(?:\s*\/\s*\d+)?/g;
/** What joins two numbers of prose into one list: a comma, `;`, `and` or `or` (not `+` or a space). */
const LIST_SEPARATOR = /^\s*[,;]?\s*(?:(?:and|or)\s)?\s*$/i;

/** A possible answer in prose: a valid math span, or a number outside math. */
interface Candidate {
  start: number;
  end: number;
  answer: string;
  span: boolean;
}

/** The candidates in [from, to), in order. */
function candidates(text: string, spans: Array<Piece & { valid: boolean }>, from: number, to: number): Candidate[] {
  const found: Candidate[] = [];
  let gapStart = from;
  const numbersBefore = (gapEnd: number) => {
    // Only the gap's own text is searched, so that no search runs on into later gaps.
    for (const m of text.slice(gapStart, gapEnd).matchAll(NUMBER)) {
      const start = gapStart + m.index!;
      found.push({ start, end: start + m[0].length, answer: m[0], span: false });
    }
  };
  for (const span of spans) {
    if (span.end <= from) continue;
    if (span.start >= to) break;
    numbersBefore(span.start);
    if (span.valid) found.push({ start: span.start, end: span.end, answer: span.content, span: true });
    gapStart = span.end;
  }
  numbersBefore(to);
  return found;
}

/** Whether two neighbouring candidates are one list: spans as boxes are, numbers by a list separator only. */
function joined(text: string, a: Candidate, b: Candidate): boolean {
  const between = text.slice(a.end, b.start);
  return a.span && b.span ? onlySeparators(between) : between.length <= MAX_SEPARATOR && LIST_SEPARATOR.test(between) && between.trim() !== '';
}

/** The candidates from `first` to `last` (indices) as one answer, with a percent sign that follows. */
function listOf(text: string, list: Candidate[], first: number, last: number): string {
  return withPercent(list.slice(first, last + 1).map((c) => c.answer).join(', '), text, list[last].end);
}

/** The last candidate, with those before it that are joined to it. */
function lastAnswer(text: string, list: Candidate[]): string | null {
  if (list.length === 0) return null;
  let first = list.length - 1;
  while (first > 0 && joined(text, list[first - 1], list[first])) first--;
  return listOf(text, list, first, list.length - 1);
}

/** The candidate starting at `at` (after spaces), with those after it that are joined to it. */
function answerAt(text: string, list: Candidate[], at: number): string | null {
  while (text[at] === ' ') at++;
  if (list.length === 0 || list[0].start !== at) return null;
  let last = 0;
  while (last + 1 < list.length && joined(text, list[last], list[last + 1])) last++;
  return listOf(text, list, 0, last);
}

/** The last span that starts at or before `index` (spans are sorted and disjoint), or null. */
function spanBefore<S extends Piece>(spans: S[], index: number): S | null {
  let [low, high] = [0, spans.length - 1];
  let found: S | null = null;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (spans[mid].start <= index) [found, low] = [spans[mid], mid + 1];
    else high = mid - 1;
  }
  return found;
}

const PERCENT_AFTER = /^[\s$})\]\\]*(?:\\?%|(\w+))/;

/** `answer` with a percent sign when the text right after it says percent. */
function withPercent(answer: string, text: string, end: number): string {
  const after = PERCENT_AFTER.exec(text.slice(end, end + 30));
  if (after === null || (after[1] !== undefined && !PERCENT_WORDS.has(after[1].toLowerCase()))) return answer;
  return `${answer}%`;
}

/**
 * Prose: outside the math spans stand words of two or more letters, set off by spaces or
 * punctuation, that are neither units nor separators (`therefore`, `Soucis`; not `cm`, `and`,
 * nor the `AB` of `AB = 4`): two of them, or one beside something to read (a span or a digit).
 * A lone word (`Even`, `Evelyn`) is an answer, not prose.
 */
function isProse(text: string, spans: Piece[]): boolean {
  const word = /(?<![\w\\{}_^])([A-Za-z]{2,})(?=[\s.,;:!?)]|$)/g;
  let gapStart = 0;
  const gaps = [...spans.map((s) => [s.start, s.end]), [text.length, text.length]];
  let readable = spans.length > 0;
  let words = 0;
  for (const [start, end] of gaps) {
    const gap = text.slice(gapStart, start);
    readable ||= /\d/.test(gap);
    for (const [, w] of gap.matchAll(word)) {
      if (words >= 2) break;
      const lower = w.toLowerCase();
      if (!UNIT_WORDS.has(lower) && !PERCENT_WORDS.has(lower) && lower !== 'and' && lower !== 'or') words++;
    }
    gapStart = end;
  }
  return words >= 2 || (words === 1 && readable);
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
