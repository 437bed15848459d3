import { mathEquivalent, type MathEquivalenceOptions } from './math-equivalence';

/**
 * maj@k: the answer most samples agree on, where agreeing means mathematically equivalent
 * (math-equivalence.ts), not the same text: "1/2", "0.5" and "\frac{1}{2}" are one vote.
 *
 * `answers` are the extracted final answers of one prompt's samples (extract.ts), null where a
 * sample has none; those do not vote. Returns the index of the first sample of the winning
 * answer, or -1 when no sample has an answer. A tie goes to the answer that appeared first.
 *
 * Two answers count as one when either reads as equal to the other: the verdict is one-sided for
 * a few forms (a gold interval asks for an interval), and a vote has no gold.
 */
export function majorityVote(answers: readonly (string | null)[], opts: MathEquivalenceOptions = {}): number {
  const classes: Array<{ first: number; answer: string; votes: number }> = [];
  const classOfText = new Map<string, (typeof classes)[number]>(); // same text, same class: no comparison
  answers.forEach((answer, index) => {
    if (answer === null) return;
    const text = answer.replace(/\s+/g, '');
    let found = classOfText.get(text);
    found ??= classes.find((c) => mathEquivalent(answer, c.answer, opts).equal || mathEquivalent(c.answer, answer, opts).equal);
    if (found === undefined) {
      found = { first: index, answer, votes: 0 };
      classes.push(found);
    }
    classOfText.set(text, found);
    found.votes++;
  });
  let winner: (typeof classes)[number] | undefined;
  for (const c of classes) if (winner === undefined || c.votes > winner.votes) winner = c;
  return winner?.first ?? -1;
}
