/**
 * DAPO's soft overlong punishment: 0 up to `maxTokens - buffer` tokens, then falling linearly to
 * -1 at `maxTokens`, and -1 beyond. With `maskTruncated`, a completion cut off by the generation
 * limit is also flagged `mask: true` so the trainer leaves it out of the loss (its reward says
 * nothing about an answer it never finished).
 */

export interface OverlongOptions {
  maxTokens: number;
  buffer: number;
  maskTruncated?: boolean;
}

export function overlongReward(
  completion: { completionTokens?: number; truncated?: boolean },
  { maxTokens, buffer, maskTruncated = false }: OverlongOptions,
): { value: number; reason: string; mask: boolean } {
  const mask = maskTruncated && completion.truncated === true;
  const tokens = completion.completionTokens;
  if (tokens === undefined) throw new Error('sample has no completionTokens');
  const softStart = maxTokens - buffer;
  if (tokens <= softStart) return { value: 0, reason: `${tokens} tokens, within ${softStart}`, mask };
  if (tokens > maxTokens) return { value: -1, reason: `${tokens} tokens, over the maximum ${maxTokens}`, mask };
  return { value: (softStart - tokens) / buffer, reason: `${tokens} tokens, in the last ${buffer} before ${maxTokens}`, mask };
}
