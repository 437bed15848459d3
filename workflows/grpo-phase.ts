import { allHandlersFinished, condition, continueAsNew, log, workflowInfo } from '@temporalio/workflow';
import { subRun } from '../schemas/layout';
import type { ArtifactRef, CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import type { RolloutRequest } from '../schemas/rollouts';
import type { GrpoStepData, GrpoUpdateSettings } from '../schemas/training';
import { verifyOnOf } from '../schemas/verify-on';
import { queues, Trainer } from './activities';
import { evaluatePolicy } from './evaluation';
import { policyRuntime, type PhaseInput, type PhaseResult } from './phase-input';
import { PhaseMessages } from './phase-messages';
import { retain } from './retention';

/** What a GRPO phase carries into its next run when it continues as new. */
export interface GrpoCarry {
  /** Steps applied so far. */
  step: number;
  /** The policy that samples the next step's rollouts. */
  policy: CheckpointRef;
  /** The last full checkpoint (weights + optimizer + RNG), or null before the first. */
  checkpoint: CheckpointRef | null;
  /** Steps since that checkpoint, for a replacement trainer to replay. */
  pending: GrpoStepData[];
  trainerQueue: string | undefined;
  metrics: Metrics;
  evals: Record<string, Metrics>;
  /** The next step's rollouts when the trainer has sampled them already (`colocate`). */
  ready?: SampledStep;
}

/** A step's rollouts, their scores and the scores' metrics. */
interface SampledStep {
  step: number;
  rollouts: ArtifactRef[];
  rewards: ArtifactRef[];
  metrics: Metrics;
}

/** Metrics of the step from those of its shards: each a mean over its samples, so weighted by them. */
function bySamples(shards: Metrics[]): Metrics {
  const total = shards.reduce((n, m) => n + m.samples, 0);
  const out: Metrics = {};
  for (const key of Object.keys(shards[0])) out[key] = key === 'samples' ? total : shards.reduce((a, m) => a + m[key] * m.samples, 0) / Math.max(1, total);
  return out;
}

/**
 * A phase restarted after its pipeline was terminated goes on from its latest complete checkpoint
 * (steps after it are redone: their rollouts came from a policy that no checkpoint kept).
 */
async function startingState(input: PhaseInput<'grpo'>): Promise<GrpoCarry> {
  const { cpu } = queues(input.deployment);
  const { checkpoint: latest, setAside } = await cpu.findLatestCheckpoint.executeWithOptions({ summary: `${input.name}: find where to start` }, [
    { pipelineId: input.pipelineId, phase: input.name },
  ]);
  for (const skipped of setAside) log.warn(`${input.name}: checkpoint of step ${skipped.step} failed verification and was set aside`, { ...skipped });
  return { step: latest?.step ?? 0, policy: latest ?? input.base, checkpoint: latest, pending: [], trainerQueue: undefined, metrics: {}, evals: {} };
}

/**
 * Reasoning RL: each step fans rollouts out over prompt shards (any number of rollout workers),
 * scores them (in the rollout activities, or on the CPU queue: `verifyOn`), and trains one GRPO
 * step on the phase's trainer. With `colocate`, the trainer samples the next step's rollouts
 * in the activity of the training step instead (after the first step of a run). The data cursor
 * is the step number: prompts of a step depend only on (seed, step).
 */
export async function grpoPhase(input: PhaseInput<'grpo'>, carried?: GrpoCarry): Promise<PhaseResult> {
  const messages = new PhaseMessages();
  const p = input.phase;
  const { cpu, rollout } = queues(input.deployment);
  const state: GrpoCarry = carried ?? (await startingState(input));
  const trainer = Trainer.resume(state.trainerQueue, input.deployment);
  const runtime = policyRuntime(input);
  const update: GrpoUpdateSettings = { grpo: p.grpo, optimizer: p.optimizer, totalSteps: p.steps, maxNewTokens: p.sampling.maxNewTokens };
  const firstStepOfRun = state.step + 1;
  const verifyInRollouts = verifyOnOf(p) === 'rollout';

  const rolloutsOf = (step: number, shard: number): Omit<RolloutRequest, 'policy'> => ({
    pipelineId: input.pipelineId,
    phase: input.name,
    step,
    shard,
    shards: p.shards,
    dataset: input.datasets[p.dataset],
    prompts: { perStep: p.promptsPerStep },
    samplesPerPrompt: p.grpo.groupSize,
    sampling: p.sampling,
    runtime,
    ...(verifyInRollouts && { rewards: p.rewards }),
  });

  /** Rollouts of a step fanned out over the shards (any rollout worker), then scored unless they were in place. */
  const sampleStep = async (step: number): Promise<SampledStep> => {
    const shards = await Promise.all(
      Array.from({ length: p.shards }, (_, shard) =>
        rollout.generateRollouts.executeWithOptions({ summary: `${input.name}: rollouts step ${step} shard ${shard + 1}/${p.shards}` }, [
          { ...rolloutsOf(step, shard), policy: state.policy },
        ]),
      ),
    );
    const rollouts = shards.map((s) => s.ref);
    if (verifyInRollouts) return { step, rollouts, rewards: shards.map((s) => s.scored!.ref), metrics: bySamples(shards.map((s) => s.scored!.metrics)) };
    const verified = await cpu.verifyRollouts.executeWithOptions({ summary: `${input.name}: verify step ${step}` }, [
      { pipelineId: input.pipelineId, phase: input.name, step, rollouts, rewards: p.rewards },
    ]);
    return { step, rollouts, rewards: [verified.ref], metrics: verified.metrics };
  };

  while (state.step < p.steps) {
    await messages.checkpointBoundary();
    const step = state.step + 1;
    const sampled = state.ready?.step === step ? state.ready : await sampleStep(step);
    state.ready = undefined;
    state.pending.push({ step, rollouts: sampled.rollouts, rewards: sampled.rewards });
    const commit = step % p.checkpointEvery === 0 || step === p.steps;
    const sampleNext = p.colocate && step < p.steps;
    const summary = `${input.name}: train step ${step}${commit ? ' + checkpoint' : ''}${sampleNext ? ` + rollouts step ${step + 1}` : ''}`;
    const trained = await trainer.run((a) =>
      a.trainGrpoStep.executeWithOptions({ summary }, [
        {
          pipelineId: input.pipelineId,
          phase: input.name,
          base: input.base,
          ...(p.lora && { lora: p.lora }),
          runtime,
          specHash: input.specHash,
          checkpoint: state.checkpoint,
          pending: state.pending,
          commit,
          update,
          ...(sampleNext && { next: rolloutsOf(step + 1, 0) }),
        },
      ]),
    );
    state.step = step;
    state.policy = trained.policy;
    state.trainerQueue = trainer.current;
    state.metrics = { ...sampled.metrics, ...trained.metrics };
    if (trained.next) state.ready = { step: step + 1, rollouts: [trained.next.ref], rewards: [trained.next.scored!.ref], metrics: trained.next.scored!.metrics };
    if (trained.checkpoint) {
      state.checkpoint = trained.checkpoint;
      state.pending = [];
    }
    if (p.eval && p.evalEvery > 0 && step % p.evalEvery === 0 && step < p.steps) {
      state.evals[`step-${step}`] = await evaluatePolicy(input, trained.policy, p.eval, `step ${step}`);
    }
    messages.report({ phase: input.name, step, totalSteps: p.steps, metrics: state.metrics, checkpoint: state.checkpoint, environment: trained.environment }, trained.checkpoint !== null);
    if (trained.checkpoint) await retain(input, [input.name, subRun.policy(input.name)], false);

    const runLong = p.continueAsNewEvery !== undefined && step - firstStepOfRun + 1 >= p.continueAsNewEvery;
    if (step < p.steps && (runLong || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof grpoPhase>(input, state);
    }
  }

  await retain(input, [input.name, subRun.policy(input.name)], true);
  if (p.eval) state.evals.final = await evaluatePolicy(input, state.checkpoint!, p.eval, 'final checkpoint');
  return {
    index: input.index,
    name: input.name,
    kind: 'grpo',
    checkpoint: state.checkpoint!,
    metrics: { ...state.metrics, ...state.evals.final },
    evals: state.evals,
  };
}
