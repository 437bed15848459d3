/**
 * Format reward: the response must be exactly `<think>...</think>` then `<answer>...</answer>`,
 * with only whitespace around them. 1 or 0.
 *
 * Every tag-like occurrence counts, in any case and spacing (`<Think >`, `</ answer>`), so a model
 * cannot farm credit by repeating or nesting tag pairs, or by hiding a second answer in its thoughts.
 */

// Linear on any input: the whitespace after '<' is matched by one quantifier only (a second
// optional `\s*` beside it made `<` + a long whitespace run quadratic), and [^<>] ends a tag
// before the next '<', so a tag never scans past it.
const TAG = /<\s*(?:(\/)\s*)?(think|answer)\b[^<>]*>/gi;
const LAYOUT = /^\s*<think>[\s\S]*<\/think>\s*<answer>([\s\S]*)<\/answer>\s*$/;

export function formatReward(response: string): { value: number; reason: string } {
  const counts = new Map<string, number>();
  for (const m of response.matchAll(TAG)) {
    const tag = `<${m[1] ?? ''}${m[2].toLowerCase()}>`;
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  for (const tag of ['<think>', '</think>', '<answer>', '</answer>']) {
    const n = counts.get(tag) ?? 0;
    if (n !== 1) return { value: 0, reason: n === 0 ? `missing ${tag}` : `${tag} appears ${n} times` };
  }
  // Each tag now appears exactly once (possibly misspelled); the layout fixes order and spelling.
  const layout = LAYOUT.exec(response);
  if (!layout) return { value: 0, reason: 'tags out of order, misspelled, or text outside them' };
  if (layout[1].trim() === '') return { value: 0, reason: 'empty answer' };
  return { value: 1, reason: 'well formed' };
}
