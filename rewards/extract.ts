/**
 * Finds the final answer in a model response.
 *
 * Rules (each is a decision a reward hacker would otherwise probe):
 * - Only the visible part of the response counts: the text after the LAST `</think>`. With no
 *   `</think>` but a `<think>`, the thinking never ended (truncated or malformed), so only the
 *   text before the first `<think>` counts. With neither tag, the whole response counts (tasks
 *   without a reasoning format). An answer that exists only inside the thinking therefore gets
 *   `{ answer: null, reason: 'no answer' }`, even when nothing else is there.
 * - `sources` are tried in the order given; the first that yields a non-empty answer wins.
 * - `answer-tag`: the last complete `<answer>...</answer>` pair (the last `</answer>` and the
 *   nearest `<answer>` before it). A pair whose content holds another answer tag is malformed
 *   and yields nothing; so do tags out of order. Inside the tag, a `\boxed{}` is unwrapped.
 * - `boxed`: the last `\boxed{...}` or `\fbox{...}` (braces may nest; `\{` and `\}` are literal
 *   braces, not groups). `\boxed 5` (no braces) takes the next token. An unclosed last box yields
 *   nothing: an earlier box does not stand in for a truncated final one.
 *
 * Every step is a single left-to-right or right-to-left scan: linear time, no regular expressions.
 */
export type AnswerSource = 'answer-tag' | 'boxed';

export type ExtractedAnswer = { answer: string } | { answer: null; reason: 'no answer' };

const OPEN_TAG = '<answer>';
const CLOSE_TAG = '</answer>';

export function extractAnswer(response: string, sources: AnswerSource[] = ['answer-tag', 'boxed']): ExtractedAnswer {
  const visible = visiblePart(response);
  for (const source of sources) {
    const answer = source === 'answer-tag' ? fromAnswerTag(visible) : lastBoxed(visible);
    if (answer !== null && answer !== '') return { answer };
  }
  return { answer: null, reason: 'no answer' };
}

/** The part of the response outside the reasoning block (see the rules above). */
export function visiblePart(response: string): string {
  const close = response.lastIndexOf('</think>');
  if (close >= 0) return response.slice(close + '</think>'.length);
  const open = response.indexOf('<think>');
  return open >= 0 ? response.slice(0, open) : response;
}

function fromAnswerTag(text: string): string | null {
  const close = text.lastIndexOf(CLOSE_TAG);
  if (close < 0) return null;
  const open = text.lastIndexOf(OPEN_TAG, close - OPEN_TAG.length);
  if (open < 0) return null;
  const content = text.slice(open + OPEN_TAG.length, close);
  if (content.includes(CLOSE_TAG)) return null;
  return lastBoxed(content) ?? content.trim();
}

/** Content of the last `\boxed{...}` / `\fbox{...}` in `text`, or null. */
export function lastBoxed(text: string): string | null {
  const start = lastBoxCommand(text);
  if (start === null) return null;
  let i = start;
  while (i < text.length && text[i] === ' ') i++;
  if (text[i] !== '{') return unbracedArgument(text, i);
  const end = matchingBrace(text, i);
  return end === null ? null : text.slice(i + 1, end).trim();
}

/** Index just after the last `\boxed` or `\fbox` command name (not `\boxedfoo`), or null. */
function lastBoxCommand(text: string): number | null {
  let best: number | null = null;
  for (const name of ['\\boxed', '\\fbox']) {
    let at = text.lastIndexOf(name);
    // A longer command such as `\boxedx` is not a box: look further left.
    while (at >= 0 && isLetter(text[at + name.length])) at = at > 0 ? text.lastIndexOf(name, at - 1) : -1;
    if (at >= 0 && (best === null || at + name.length > best)) best = at + name.length;
  }
  return best;
}

/** `\boxed 5`: the argument is the next run of characters up to a space or a `$`. */
function unbracedArgument(text: string, from: number): string | null {
  let end = from;
  while (end < text.length && text[end] !== ' ' && text[end] !== '$' && text[end] !== '\n') end++;
  return end > from ? text.slice(from, end) : null;
}

/** Index of the `}` that closes the `{` at `open`, skipping escaped characters; null if unclosed. */
export function matchingBrace(text: string, open: number): number | null {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return null;
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
