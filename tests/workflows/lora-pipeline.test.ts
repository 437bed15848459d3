/**
 * LoRA phases through real workers, Temporal and S3: SFT then GRPO, each training adapters. What
 * each phase hands on (its checkpoints' weights, the policies its rollouts sample, the next
 * phase's base, `r1 export`) is the merged model W + (alpha/r) B A; the checkpoints keep the
 * adapters and their moments, and a trainer restored from one continues bit for bit as the
 * trainer that kept them in memory.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureStack } from '../helpers/stack';
import { testClient, withWorkers } from '../helpers/workers';
import { startPipeline } from '../../cli/pipelines';
import { exportModel } from '../../cli/export-model';
import { loadDataset } from '../../activities/datasets';
import { batchIndices, sftExample, textCodecOf } from '../../activities/examples';
import { loadTrainerState } from '../../activities/model-checkpoints';
import { resumeTrainer, TrainerHost } from '../../activities/trainer-host';
import { loraScale } from '../../engine/lora';
import { parameterShapes } from '../../engine/model';
import { readSafetensors } from '../../engine/safetensors';
import type { NamedTensors } from '../../engine/tensors';
import { LoraSchema } from '../../schemas/lora';
import { modelConfigSchema } from '../../schemas/model';
import type { SftStepsInput } from '../../schemas/training';
import { ArtifactStore } from '../../storage/artifact-store';
import { listCheckpoints, checkpointRefOf } from '../../storage/checkpoints';
import type { PipelineResult } from '../../workflows/pipeline';
import { PHASES, tinySpec } from '../fixtures/tiny-pipeline';

before(async () => {
  await ensureStack();
});

const lora = LoraSchema.parse({ rank: 4, alpha: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
const SFT_STEPS = 4;
// Full fine-tuning first: adapters of a random model's inner layers hardly move its near-uniform
// output (its lm head is untouched), and GRPO needs a policy that earns some reward to have a gradient.
const spec = tinySpec([
  PHASES.sft,
  { ...PHASES.sft, steps: SFT_STEPS, checkpointEvery: SFT_STEPS / 2, optimizer: { lr: 0.001, minLrRatio: 1 }, lora },
  { ...PHASES.grpo, steps: 2, shards: 1, checkpointEvery: 1, lora },
]);

test('LoRA SFT then LoRA GRPO after a full SFT: every phase hands on merged weights, export writes them, a restored trainer continues exactly', async () => {
  const client = await testClient();
  const store = ArtifactStore.fromEnv();
  const id = `lora-${randomUUID().slice(0, 8)}`;
  const result = (await withWorkers(['orchestration', 'cpu', 'rollout', 'train'], async () => (await startPipeline(client, spec, id)).result())) as PipelineResult;
  const [full, sft, grpo] = result.phases;

  // Each phase's checkpoint: merged weights = its base + (alpha/r) B A, with moments for the adapters only.
  const initial = await loadTrainerState(store, full.checkpoint, { weightsOnly: true });
  const sftState = await loadTrainerState(store, sft.checkpoint);
  const grpoState = await loadTrainerState(store, grpo.checkpoint);
  for (const [state, base] of [[sftState, initial], [grpoState, sftState]] as const) {
    assert.deepEqual(state.lora?.config, lora);
    assert.deepEqual(Object.keys(state.optimizer!.m).sort(), Object.keys(state.lora!.adapters).sort());
    assertMerged(state.weights, base.weights, state.lora!.adapters);
  }

  // The rollouts of GRPO's second step sampled the policy of its first: merged, the checkpoint's weights exactly.
  const policies = await listCheckpoints(store, id, '2-grpo.policy');
  const firstFull = (await listCheckpoints(store, id, '2-grpo')).find((c) => c.step === 1)!;
  const policy = await loadTrainerState(store, await checkpointRefOf(store, id, '2-grpo.policy', policies.find((c) => c.step === 1)!), { weightsOnly: true });
  const firstState = await loadTrainerState(store, await checkpointRefOf(store, id, '2-grpo', firstFull), { weightsOnly: true });
  for (const name of Object.keys(policy.weights)) assert.deepEqual(policy.weights[name].data, firstState.weights[name].data, name);

  // r1 export writes the merged model: the weights of the final checkpoint, no adapters.
  const dir = mkdtempSync(join(tmpdir(), 'r1-lora-export-'));
  const files = await exportModel(store, grpo.checkpoint.uri, dir, { dtype: 'f32' });
  assert.ok(!files.some((f) => f.includes('adapter')), files.join(', '));
  const exported = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
  assert.deepEqual(Object.keys(exported).sort(), Object.keys(parameterShapes(modelConfigSchema.parse(grpoState.config))).sort());
  for (const name of Object.keys(exported)) assert.deepEqual(exported[name].data, grpoState.weights[name].data, name);

  // A trainer restored from SFT's middle checkpoint (base + adapters + moments) gives its last checkpoint bit for bit.
  const input = await scheduledInput(client, `${id}/1-sft`, SFT_STEPS);
  const middle = await checkpointRefOf(store, id, '1-sft', (await listCheckpoints(store, id, '1-sft')).find((c) => c.step === SFT_STEPS / 2)!);
  const host = new TrainerHost({ kind: 'cpu', threads: 1 }, 1);
  try {
    const { trainer } = await resumeTrainer(store, host, input, middle, { withReference: false });
    assert.equal(trainer.step, SFT_STEPS / 2);
    const rows = await loadDataset(store, input.dataset);
    const codec = textCodecOf(trainer.assets, input.runtime);
    for (let step = SFT_STEPS / 2 + 1; step <= SFT_STEPS; step++) {
      const batch = batchIndices(rows.length, input.batchSize, input.runtime.seed, step).map((i) => sftExample(codec, rows[i], trainer.config.maxSeqLen, `row ${i}`));
      await trainer.engine.sftStep({ sequences: batch.map((e) => e.tokens), lossMask: batch.map((e) => e.lossMask) }, { optimizer: input.optimizer, step, totalSteps: input.totalSteps });
    }
    const resumed = await trainer.engine.exportState();
    assert.equal(resumed.optimizer.step, sftState.optimizer!.step);
    for (const name of Object.keys(sftState.lora!.adapters)) {
      assert.deepEqual(resumed.lora!.adapters[name].data, sftState.lora!.adapters[name].data, name);
      assert.deepEqual(resumed.optimizer.m[name].data, sftState.optimizer!.m[name].data, `m.${name}`);
      assert.deepEqual(resumed.optimizer.v[name].data, sftState.optimizer!.v[name].data, `v.${name}`);
    }
    for (const name of Object.keys(resumed.weights)) assert.deepEqual(resumed.weights[name].data, sftState.weights[name].data, `merged ${name}`);
  } finally {
    await host.close();
  }
});

/** Adapted weights are base + scale B A (to float tolerance), the rest are the base's exactly, and the adapters moved them. */
function assertMerged(merged: NamedTensors, base: NamedTensors, adapters: NamedTensors): void {
  let moved = 0;
  for (const [name, w] of Object.entries(base)) {
    const module = name.replace(/\.weight$/, '');
    const a = adapters[`${module}.lora_A.weight`];
    const b = adapters[`${module}.lora_B.weight`];
    if (!a) {
      assert.deepEqual(merged[name].data, w.data, `${name} is not adapted and changed`);
      continue;
    }
    const [outDim, inDim] = w.dims;
    for (let o = 0; o < outDim; o++) {
      for (let i = 0; i < inDim; i++) {
        let ba = 0;
        for (let k = 0; k < lora.rank; k++) ba += b.data[o * lora.rank + k] * a.data[k * inDim + i];
        const expected = w.data[o * inDim + i] + loraScale(lora) * ba;
        const got = merged[name].data[o * inDim + i];
        assert.ok(Math.abs(got - expected) < 1e-6, `${name}[${o}, ${i}]: merged ${got}, base + adapter ${expected}`);
        moved = Math.max(moved, Math.abs(got - w.data[o * inDim + i]));
      }
    }
  }
  assert.ok(moved > 1e-4, `the adapters moved no weight by more than ${moved}`);
}

/** The input the phase's workflow gave its trainSftSteps call ending at `toStep`, from its history. */
async function scheduledInput(client: Awaited<ReturnType<typeof testClient>>, workflowId: string, toStep: number): Promise<SftStepsInput> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'trainSftSteps') continue;
    const input = JSON.parse(Buffer.from(scheduled.input!.payloads![0].data!).toString('utf8')) as SftStepsInput;
    if (input.toStep === toStep) return input;
  }
  throw new Error(`${workflowId}: no trainSftSteps call to step ${toStep}`);
}
