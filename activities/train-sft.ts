import { Context } from '@temporalio/activity';
import { learningRate } from '../engine/schedule';
import { withHeartbeats } from './heartbeat';
import type { Metrics } from '../schemas/metrics';
import type { SftStepsInput, SftStepsResult } from '../schemas/training';
import type { ArtifactStore } from '../storage/artifact-store';
import { latestCheckpoint, readManifest } from '../storage/checkpoints';
import { loadDataset } from './datasets';
import { batchIndices, pretrainExample, sftExample, textCodecOf } from './examples';
import { commitTrainerState } from './model-checkpoints';
import { producerEnvironment } from './provenance';
import { resumeTrainer, trainerKey, type TrainerHost } from './trainer-host';

export function sftActivities(store: ArtifactStore, host: TrainerHost) {
  return {
    /**
     * Applies SFT (or pretraining) steps up to `toStep` on this worker's trainer and commits a
     * checkpoint there. Step numbers are idempotency keys: steps already in the committed lineage
     * are never applied again, and a retry after a crash replays from the last checkpoint, seeing
     * the same batches (they depend only on seed and step).
     */
    trainSftSteps: (input: SftStepsInput): Promise<SftStepsResult> => withHeartbeats((progress) => host.train(async () => {
      const latest = await latestCheckpoint(store, input.pipelineId, input.phase);
      if (latest && latest.step >= input.toStep) {
        const { metrics, environment } = await readManifest(store, latest);
        return { step: latest.step, checkpoint: latest, metrics, environment: environment ?? null };
      }
      const { trainer, checkpoint: restored } = await resumeTrainer(store, host, input, latest, { withReference: false });
      const rows = await loadDataset(store, input.dataset);
      const codec = textCodecOf(trainer.assets, input.runtime);

      let lossSum = 0;
      let tokens = 0;
      let steps = 0;
      const began = Date.now();
      let last = { loss: NaN, gradNorm: NaN, lr: 0 };
      const cancel = Context.current().cancellationSignal;
      const from = trainer.step;
      for (let step = trainer.step + 1; step <= input.toStep && !cancel.aborted && !host.leaving; step++) {
        const batch = batchIndices(rows.length, input.batchSize, input.runtime.seed, step).map((i) => {
          const where = `${input.dataset.uri} row ${i + 1}`;
          return input.kind === 'pretrain'
            ? pretrainExample(codec.tok, rows[i], trainer.config.maxSeqLen, where)
            : sftExample(codec, rows[i], trainer.config.maxSeqLen, where);
        });
        const at = { optimizer: input.optimizer, step, totalSteps: input.totalSteps };
        const m = await trainer.engine.sftStep({ sequences: batch.map((e) => e.tokens), lossMask: batch.map((e) => e.lossMask) }, at);
        trainer.step = step;
        lossSum += m.loss;
        tokens += m.tokens;
        steps += 1;
        last = { loss: m.loss, gradNorm: m.gradNorm, lr: learningRate(at) };
        trainer.curves.add(step, { ...last, tokens: m.tokens });
        progress({ step, loss: m.loss });
      }

      const metrics: Metrics = {
        loss: last.loss,
        meanLoss: lossSum / Math.max(1, steps),
        gradNorm: last.gradNorm,
        lr: last.lr,
        tokensPerSecond: tokens / Math.max(1e-3, (Date.now() - began) / 1000),
        stepSeconds: (Date.now() - began) / 1000 / Math.max(1, steps),
      };
      // Cancelled or leaving (a worker shutting down): keep what was trained in a checkpoint, then stop.
      if (cancel.aborted && trainer.step === from) throw cancel.reason;
      if (host.leaving && trainer.step === from) return { step: from, checkpoint: restored ?? input.base, metrics: {}, environment: null, trainerLeaving: true };
      const state = await trainer.engine.exportState();
      const environment = producerEnvironment(trainer.engine.environment, input.specHash);
      const checkpoint = await commitTrainerState(
        store,
        { pipelineId: input.pipelineId, phase: input.phase, step: trainer.step },
        { ...state, extra: { dataCursor: trainer.step, seed: input.runtime.seed } },
        restored ?? input.base,
        metrics,
        environment,
      );
      trainer.basis = checkpoint.uri;
      await trainer.curves.flush(store, input);
      if (cancel.aborted) throw cancel.reason;
      // The phase's last step: its memory (gigabytes for a real model) goes before whatever runs next.
      if (trainer.step === input.totalSteps) await host.drop(trainerKey(input));
      return { step: trainer.step, checkpoint, metrics, environment, ...(host.leaving && { trainerLeaving: true as const }) };
    })),
  };
}
