/**
 * Finds the final answer in a model response.
 *
 * Rules (each is a decision a reward hacker would otherwise probe):
 * - Only the visible part of the response counts: the text after the LAST `</think>`. With no
 *   `</think>` but a `<think>`, the thinking never ended (truncated or malformed), so only the
 *   text before the first `<think>` counts. With neither tag, the whole response counts (tasks
 *   without a reasoning format). An answer that exists only inside the thinking therefore gets
 *   `{ answer: null, reason: 'no answer' }`, even when nothing else is there.
 *   A `<think>` after the last `</think>` means tags out of order: nothing is visible.
 * - `sources` are tried in the order given; the first that yields a non-empty answer wins.
 * - `answer-tag`: the last complete `<answer>...</answer>` pair (the last `</answer>` and the
 *   nearest `<answer>` before it), its content read by final-answer.ts (boxes, a final-answer
 *   phrase, the last math in prose), else the whole content. A pair whose content holds another
 *   answer tag is malformed and yields nothing; so do tags out of order.
 * - `boxed`: the last `\boxed{...}` or `\fbox{...}`, with the boxes just before it that only
 *   separators keep from it (`\boxed{1} and \boxed{2}` is the list 1, 2). Braces may nest; `\{`
 *   and `\}` are literal braces. `\boxed 5` takes the next token. An unclosed last box yields
 *   nothing: an earlier box does not stand in for a truncated final one.
 * - `prose` (the default after `answer-tag`): the visible text read by final-answer.ts: boxes as
 *   above unless a final-answer phrase follows them ("The final answer is $5$."), the last math
 *   or number of prose, or a short text that is all answer. `boxed` alone reads boxes only.
 *
 * Every step scans linearly: no pattern here backtracks over the response.
 */
import { finalAnswer, lastBoxGroup, UNCLOSED } from './final-answer';

export type AnswerSource = 'answer-tag' | 'boxed' | 'prose';

export type ExtractedAnswer = { answer: string } | { answer: null; reason: 'no answer' };

export const DEFAULT_SOURCES: AnswerSource[] = ['answer-tag', 'prose'];

const OPEN_TAG = '<answer>';
const CLOSE_TAG = '</answer>';

export function extractAnswer(response: string, sources: AnswerSource[] = DEFAULT_SOURCES): ExtractedAnswer {
  const visible = visiblePart(response);
  for (const source of sources) {
    const answer = source === 'answer-tag' ? fromAnswerTag(visible) : source === 'boxed' ? boxed(visible) : finalAnswer(visible);
    if (answer !== null && answer !== '') return { answer };
  }
  return { answer: null, reason: 'no answer' };
}

/** The part of the response outside the reasoning block (see the rules above). */
export function visiblePart(response: string): string {
  const close = response.lastIndexOf('</think>');
  if (close >= 0) {
    const after = response.slice(close + '</think>'.length);
    return after.includes('<think>') ? '' : after; // tags out of order: nothing is visible
  }
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
  return finalAnswer(content) ?? content.trim(); // the tag holds the answer, even as plain words
}

function boxed(text: string): string | null {
  const group = lastBoxGroup(text);
  return group === null || group === UNCLOSED ? null : group.answer;
}
