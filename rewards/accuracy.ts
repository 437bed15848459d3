import { extractAnswer, type AnswerSource } from './extract';
import { finalAnswer } from './final-answer';
import { mathEquivalent } from './math-equivalence';

export interface AccuracyOptions {
  sources?: AnswerSource[];
  relTol?: number;
  absTol?: number;
  timeoutMs?: number;
}

/**
 * 1 when the response's final answer (extract.ts) is mathematically equivalent to the gold's
 * (math-equivalence.ts), else 0. The gold is read by the same rules as an answer block
 * (final-answer.ts), so a gold that is a worked solution ending in `\boxed{}` works; a gold from
 * which nothing can be read is compared as written. The reason says which step decided: 'no
 * answer', or the equivalence verdict's reason. Never throws: a reward that throws stalls a
 * whole GRPO batch.
 */
export function accuracyReward(response: string, gold: string, opts: AccuracyOptions = {}): { value: number; reason: string } {
  try {
    const extracted = extractAnswer(response, opts.sources);
    if (extracted.answer === null) return { value: 0, reason: 'no answer' };
    const verdict = mathEquivalent(extracted.answer, finalAnswer(gold) ?? gold, opts);
    return { value: verdict.equal ? 1 : 0, reason: verdict.reason };
  } catch (err) {
    return { value: 0, reason: `error: ${err instanceof Error ? err.message : String(err)}` };
  }
}
