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

/** A verified-correct sample: what the filter needs of it. */
interface Candidate {
  row: number;
  text: string;
  tokens: number;
  score: SampleScore;
}

/** Shards read at once: S3 latency overlaps, and memory holds only their correct samples after. */
const READ_AHEAD = 16;

/** Correct means the verifier accepted the answer (or every test passed) and, when format is scored, the format too. */
function correct(score: SampleScore): boolean {
  return correctnessOf(score) === 1 && (score.breakdown.format === undefined || score.breakdown.format.value === 1);
}

/** Readable first: language-consistent, then higher reward, then shorter. */
function preference(a: Candidate, b: Candidate): number {
  const lang = (s: SampleScore) => s.breakdown.language?.value ?? 1;
  return lang(b.score) - lang(a.score) || b.score.reward - a.score.reward || a.tokens - b.tokens;
}

export function curateActivities(store: ArtifactStore) {
  /** The correct samples of one shard of a sampling run (workflows/sample-dataset.ts), from its fixed keys. */
  const correctOf = async (input: CurateInput, shard: number): Promise<Candidate[]> => {
    const { pipelineId, samples } = input;
    const read = async <T>(key: string) => decodeJsonl<T>(await store.getBytes({ uri: store.uri(store.key(key)) }));
    const rollouts = await read<Rollout>(keys.rollouts(pipelineId, samples.phase, 0, shard));
    const scores = await read<SampleScore>(keys.rewardsOfStep(pipelineId, samples.phase, shard));
    if (rollouts.length !== scores.length) throw new Error(`${samples.phase} shard ${shard}: ${rollouts.length} rollouts but ${scores.length} scores`);
    return rollouts.flatMap((r, i) => (correct(scores[i]) ? [{ row: r.row, text: r.text, tokens: r.tokens.length, score: scores[i] }] : []));
  };

  return {
    /**
     * Rejection sampling's filter (also distillation's): keeps verified-correct samples, drops
     * duplicates, prefers readable ones, mixes in general data, and writes the SFT dataset. Reads
     * the sampling run shard by shard and keeps only correct samples, so a run of millions of
     * samples fits in memory.
     */
    buildSftDataset: (input: CurateInput): Promise<CuratedDataset> => withHeartbeats(async (progress) => {
      const prompts = await loadDataset(store, input.prompts);
      const byRow = new Map<number, Candidate[]>();
      for (let start = 0; start < input.samples.shards; start += READ_AHEAD) {
        const shards = Array.from({ length: Math.min(READ_AHEAD, input.samples.shards - start) }, (_, i) => start + i);
        for (const candidates of await Promise.all(shards.map((shard) => correctOf(input, shard)))) {
          for (const c of candidates) {
            const list = byRow.get(c.row) ?? [];
            if (!list.some((x) => x.text.trim() === c.text.trim())) list.push(c);
            byRow.set(c.row, list);
          }
        }
        progress({ shards: start + shards.length, of: input.samples.shards });
      }
      const rows: DatasetRow[] = [];
      for (const [row, candidates] of [...byRow.entries()].sort((a, b) => a[0] - b[0])) {
        for (const { text } of candidates.sort(preference).slice(0, input.keepPerPrompt)) {
          rows.push({ prompt: prompts[row].prompt, answer: prompts[row].answer, completion: text });
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
