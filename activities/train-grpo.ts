import { Context } from '@temporalio/activity';
import type { TrainerState } from '../engine/checkpoint';
import type { Metrics } from '../schemas/metrics';
import { correctnessOf, type SampleScore } from '../schemas/rewards';
import type { Rollout } from '../schemas/rollouts';
import type { GrpoStepData, GrpoStepInput, GrpoStepResult } from '../schemas/training';
import { subRun } from '../schemas/layout';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestCheckpoint, readManifest } from '../storage/checkpoints';
import { UnreplayableStepsError } from './errors';
import { activityProducer, commitTrainerState } from './model-checkpoints';
import { producerEnvironment } from './provenance';
import type { RecentShards } from './recent-shards';
import { generateShard } from './rollouts';
import { Timings } from './timings';
import { throwIfCancelled, withHeartbeats } from './heartbeat';
import type { PolicyPool } from './policy-pool';
import { resumeTrainer, trainerKey, type LiveTrainer, type TrainerHost } from './trainer-host';

/** Reads a step's rollouts and scores (from this process's memory when it wrote them) and applies the step on the engine. */
async function applyStep(store: ArtifactStore, recent: RecentShards, trainer: LiveTrainer, input: GrpoStepInput, data: GrpoStepData, t: Timings): Promise<Metrics> {
  const rollouts: Rollout[] = [];
  for (const ref of data.rollouts) rollouts.push(...(await recent.read<Rollout>(store, ref, t)));
  const scores: SampleScore[] = [];
  for (const ref of data.rewards) scores.push(...(await recent.read<SampleScore>(store, ref, t)));
  const began = performance.now();
  const update = await t.time('engine', () => trainer.engine.grpoUpdate({ step: data.step, rollouts, scores, settings: input.update }));
  const seconds = (performance.now() - began) / 1000;
  const metrics = { ...update, accuracy: mean(scores.map(correctnessOf)), stepSeconds: seconds, tokensPerSecond: (update.tokens ?? 0) / Math.max(1e-3, seconds) };
  trainer.step = data.step;
  trainer.curves.add(data.step, metrics);
  return metrics;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * The phase's trainer in this process, ready to apply `target`: when this process applied every
 * step before it on the lineage the phase knows (the usual case), no S3 listing is needed.
 * Otherwise the committed and published checkpoints decide: a step already applied returns its
 * result (`done`), a trainer off the committed lineage is restored from it.
 */
async function trainerFor(store: ArtifactStore, host: TrainerHost, input: GrpoStepInput, target: number, t: Timings) {
  const live = host.get(trainerKey(input));
  if (live && live.step === target - 1 && live.basis === (input.checkpoint ?? input.base).uri) {
    return { trainer: live, committed: input.checkpoint, published: null, done: null };
  }
  const committed = await t.time('s3', () => latestCheckpoint(store, input.pipelineId, input.phase));
  const published = await t.time('s3', () => latestCheckpoint(store, input.pipelineId, subRun.policy(input.phase)));
  if (committed && committed.step >= target && published && published.step >= target) {
    const { metrics, environment } = await readManifest(store, committed);
    const done: GrpoStepResult = { step: target, policy: published, checkpoint: committed, environment: environment ?? null, metrics };
    return { trainer: null, committed, published, done };
  }
  const lastCommitted = committed?.step ?? 0;
  if (live && live.basis === (committed ?? input.base).uri && live.step >= lastCommitted && live.step <= target) {
    return { trainer: live, committed, published, done: null };
  }
  const resumed = await resumeTrainer(store, host, input, committed, { withReference: input.update.grpo.beta > 0 });
  // Restored from before the checkpoint the workflow knows (a later one failed verification): the
  // steps in between are not in `pending`, and only a new run of the phase can redo them.
  const known = input.checkpoint?.step ?? 0;
  if ((resumed.checkpoint?.step ?? 0) < known) {
    throw new UnreplayableStepsError(`${input.phase}: the checkpoint of step ${known} failed verification and was set aside; restart the pipeline (r1 restart) to redo the steps after step ${resumed.checkpoint?.step ?? 0}`);
  }
  return { trainer: resumed.trainer, committed: resumed.checkpoint, published, done: null };
}

export function grpoActivities(store: ArtifactStore, host: TrainerHost, pool: PolicyPool, recent: RecentShards) {
  /**
   * Applies the last of `input.pending` on this worker's trainer (replaying earlier ones only
   * when the trainer had to be restored), publishes the new policy for rollouts and, when asked,
   * commits a full checkpoint. A retried call for a step already applied applies nothing.
   * Steps trained but not yet checkpointed are saved when the worker shuts down (at the end of
   * its grace time, the step under way is cancelled and saved the same way), so the trainer
   * that takes over restores them instead of replaying them.
   */
  const applyPending = (input: GrpoStepInput, progress: (details: unknown) => void) => host.train(async (): Promise<GrpoStepResult> => {
    const t = new Timings();
    const target = input.pending[input.pending.length - 1].step;
    const { trainer, committed, published, done } = await trainerFor(store, host, input, target, t);
    if (done) return done;
    const cancel = Context.current().cancellationSignal;
    const exportState = () => t.time('engine', () => trainer.engine.exportState());
    const producer = activityProducer();
    const environment = producerEnvironment(trainer.engine.environment, input.specHash);
    const commitFull = async (metrics: Metrics, state: TrainerState, by = producer) => {
      const checkpoint = await t.time('s3', () =>
        commitTrainerState(
          store,
          { pipelineId: input.pipelineId, phase: input.phase, step: trainer.step },
          { ...state, extra: { seed: input.runtime.seed } },
          committed ?? input.base,
          metrics,
          environment,
          by,
        ),
      );
      trainer.basis = checkpoint.uri;
      trainer.saveOnExit = undefined;
      await t.time('s3', () => trainer.curves.flush(store, input));
      return checkpoint;
    };

    let metrics: Metrics = {};
    for (const data of input.pending) {
      if (data.step <= trainer.step) continue;
      if (cancel.aborted) {
        if (trainer.step > (committed?.step ?? 0)) await commitFull(metrics, await exportState());
        throw cancel.reason;
      }
      metrics = await applyStep(store, recent, trainer, input, data, t);
      progress({ step: data.step });
    }
    if (Object.keys(metrics).length === 0 && published?.step === target) {
      metrics = (await readManifest(store, published)).metrics; // applied before, response lost
    }

    const state = await exportState();
    const policy = await t.time('s3', () =>
      commitTrainerState(
        store,
        { pipelineId: input.pipelineId, phase: subRun.policy(input.phase), step: target },
        { config: state.config, weights: state.weights, assets: state.assets },
        committed ?? input.base,
        metrics,
        environment,
      ),
    );
    // Rollout workers in this process take the new policy from memory instead of S3.
    pool.remember(policy, { config: state.config, weights: state.weights, assets: state.assets });
    const checkpoint = input.commit || cancel.aborted || host.leaving ? await commitFull(metrics, state) : null;
    if (!checkpoint) trainer.saveOnExit = async (reason) => commitFull(metrics, await exportState(), { ...producer, activity: reason });
    // The phase's last step, committed: its memory (gigabytes for a real model) goes before whatever runs next.
    else if (target === input.update.totalSteps) await host.drop(trainerKey(input));
    return {
      step: target,
      policy,
      checkpoint,
      environment: checkpoint ? environment : null,
      metrics: { ...metrics, ...t.metrics('train') },
      ...(host.leaving && { trainerLeaving: true as const }),
    };
  });

  return {
    /**
     * One GRPO step on this worker's trainer; with `next` (colocated rollouts), then the next
     * step's rollouts, sampled with the weights just made: one activity per step instead of two.
     */
    trainGrpoStep: (input: GrpoStepInput): Promise<GrpoStepResult> => withHeartbeats(async (progress) => {
      const result = await applyPending(input, progress);
      if (!input.next || result.trainerLeaving) return result;
      throwIfCancelled();
      progress({ step: input.next.step, rollouts: true });
      return { ...result, next: await generateShard(store, pool, recent, { ...input.next, policy: result.policy }, new Timings()) };
    }),
  };
}
