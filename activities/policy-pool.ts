import { Engine } from '../engine/engine';
import type { Device } from '../schemas/device';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { loadTrainerState } from './model-checkpoints';

/**
 * Policies loaded for generation on a rollout worker, by checkpoint uri. A worker asked for the
 * version it already holds reuses it; otherwise it loads the weights from S3 (hash-checked) and
 * evicts the least recently used version beyond `capacity`.
 */
export class PolicyPool {
  private readonly engines = new Map<string, Promise<Engine>>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly capacity = 2,
  ) {}

  async get(policy: CheckpointRef, opts: { seed: number; device: Device; tokenizer: PipelineSpec['tokenizer'] }): Promise<Engine> {
    let engine = this.engines.get(policy.uri);
    if (engine) {
      this.engines.delete(policy.uri); // re-inserted below as the most recent
    } else {
      engine = this.load(policy, opts);
      engine.catch(() => this.engines.delete(policy.uri));
    }
    this.engines.set(policy.uri, engine);
    while (this.engines.size > this.capacity) {
      const oldest = this.engines.keys().next().value!;
      const evicted = this.engines.get(oldest)!;
      this.engines.delete(oldest);
      evicted.then((e) => e.close(), () => undefined);
    }
    return engine;
  }

  private async load(policy: CheckpointRef, opts: { seed: number; device: Device; tokenizer: PipelineSpec['tokenizer'] }): Promise<Engine> {
    const state = await loadTrainerState(this.store, policy);
    return Engine.start({ config: state.config, seed: opts.seed, weights: state.weights, device: opts.device, tokenizer: opts.tokenizer });
  }

  async close(): Promise<void> {
    const all = [...this.engines.values()];
    this.engines.clear();
    await Promise.all(all.map((e) => e.then((x) => x.close(), () => undefined)));
  }
}
