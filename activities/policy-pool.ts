import { Engine } from '../engine/engine';
import type { Device } from '../schemas/device';
import type { PipelineSpec } from '../schemas/pipeline-spec';
import type { CheckpointRef } from '../schemas/refs';
import type { ArtifactStore } from '../storage/artifact-store';
import { loadTrainerState } from './model-checkpoints';

interface Loaded {
  engine: Promise<Engine>;
  users: number;
}

export interface PolicyOptions {
  seed: number;
  device: Device;
  tokenizer: PipelineSpec['tokenizer'];
}

/**
 * Policies loaded for generation on a rollout worker, by checkpoint uri. A worker asked for the
 * version it already holds reuses it; otherwise it loads the weights from S3 (hash-checked).
 * Versions beyond `capacity` are closed, least recently used first, once nobody is using them.
 */
export class PolicyPool {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly store: ArtifactStore,
    private readonly capacity = 2,
  ) {}

  async use<T>(policy: CheckpointRef, opts: PolicyOptions, work: (engine: Engine) => Promise<T>): Promise<T> {
    let entry = this.loaded.get(policy.uri);
    if (entry) {
      this.loaded.delete(policy.uri); // re-inserted below as the most recent
    } else {
      entry = { engine: this.load(policy, opts), users: 0 };
    }
    this.loaded.set(policy.uri, entry);
    entry.users += 1;
    try {
      const engine = await entry.engine.catch((err) => {
        if (this.loaded.get(policy.uri) === entry) this.loaded.delete(policy.uri); // never reuse a failed load
        throw err;
      });
      return await work(engine);
    } finally {
      entry.users -= 1;
      this.evict();
    }
  }

  private async load(policy: CheckpointRef, opts: PolicyOptions): Promise<Engine> {
    const state = await loadTrainerState(this.store, policy);
    return Engine.start({ config: state.config, seed: opts.seed, weights: state.weights, device: opts.device, tokenizer: opts.tokenizer });
  }

  private evict(): void {
    for (const [uri, entry] of this.loaded) {
      if (this.loaded.size <= this.capacity) return;
      if (entry.users > 0) continue;
      this.loaded.delete(uri);
      entry.engine.then((e) => e.close(), () => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((e) => e.engine.then((x) => x.close(), () => undefined)));
  }
}
