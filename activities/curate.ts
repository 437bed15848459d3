import type { CuratedDataset, CurateInput, DatasetRow } from '../schemas/datasets';
import { keys } from '../schemas/layout';
import { correctnessOf, type SampleScore } from '../schemas/rewards';
import type { Rollout } from '../schemas/rollouts';
import type { ArtifactStore } from '../storage/artifact-store';
import { Rng } from '../engine/rng';
import { decodeJsonl, encodeJsonl } from './jsonl';
import { loadDataset } from './datasets';
import { NoCorrectSamplesError } from './errors';
import { withHeartbeats } from './heartbeat';

/** Correct means the verifier accepted the answer (or every test passed) and, when format is scored, the format too. */
function correct(score: SampleScore): boolean {
  return correctnessOf(score) === 1 && (score.breakdown.format === undefined || score.breakdown.format.value === 1);
}

/** Readable first: language-consistent, then higher reward, then shorter. */
function preference(a: { score: SampleScore; rollout: Rollout }, b: { score: SampleScore; rollout: Rollout }): number {
  const lang = (s: SampleScore) => s.breakdown.language?.value ?? 1;
  return lang(b.score) - lang(a.score) || b.score.reward - a.score.reward || a.rollout.tokens.length - b.rollout.tokens.length;
}

export function curateActivities(store: ArtifactStore) {
  return {
    /**
     * Rejection sampling's filter (also distillation's): keeps verified-correct samples, drops
     * duplicates, prefers readable ones, mixes in general data, and writes the SFT dataset.
     */
    buildSftDataset: (input: CurateInput): Promise<CuratedDataset> => withHeartbeats(async () => {
      const prompts = await loadDataset(store, input.prompts);
      const rollouts: Rollout[] = [];
      const scores: SampleScore[] = [];
      for (const ref of input.rollouts) rollouts.push(...decodeJsonl<Rollout>(await store.getBytes(ref)));
      for (const ref of input.rewards) scores.push(...decodeJsonl<SampleScore>(await store.getBytes(ref)));
      if (rollouts.length !== scores.length) throw new Error(`${rollouts.length} rollouts but ${scores.length} scores`);

      const byRow = new Map<number, { score: SampleScore; rollout: Rollout }[]>();
      rollouts.forEach((rollout, i) => {
        if (!correct(scores[i])) return;
        const list = byRow.get(rollout.row) ?? [];
        if (!list.some((c) => c.rollout.text.trim() === rollout.text.trim())) list.push({ score: scores[i], rollout });
        byRow.set(rollout.row, list);
      });
      const rows: DatasetRow[] = [];
      for (const [row, candidates] of [...byRow.entries()].sort((a, b) => a[0] - b[0])) {
        for (const { rollout } of candidates.sort(preference).slice(0, input.keepPerPrompt)) {
          rows.push({ prompt: prompts[row].prompt, answer: prompts[row].answer, completion: rollout.text });
        }
      }
      const kept = rows.length;
      if (input.general && kept > 0 && input.general.share > 0) {
        const general = await loadDataset(store, input.general.dataset);
        const wanted = Math.round((kept * input.general.share) / (1 - Math.min(input.general.share, 0.99)));
        const rng = new Rng(input.seed);
        for (let i = 0; i < wanted; i++) rows.push(general[Math.floor(rng.next() * general.length)]);
      }
      if (rows.length === 0) {
        throw new NoCorrectSamplesError(`no correct samples to build ${input.name} from: the policy solved none of ${prompts.length} prompts`);
      }
      const { ref } = await store.putBytes(store.key(keys.dataset(input.pipelineId, input.name)), encodeJsonl(rows));
      return { ...ref, rows: rows.length, kept, promptsWithAny: byRow.size };
    }),
  };
}
