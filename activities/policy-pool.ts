import { createHash } from 'node:crypto';
import type { TrainerState } from '../engine/checkpoint';
import { Engine } from '../engine/engine';
import { BoundedCache } from './bounded-cache';
import type { Device } from '../schemas/device';
import type { CheckpointRef } from '../schemas/refs';
import type { PolicyRuntime } from '../schemas/runtime';
import type { ArtifactStore } from '../storage/artifact-store';
import { loadTrainerState } from './model-checkpoints';
import { Timings } from './timings';

function assetsHash(assets: Record<string, Uint8Array> | undefined): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(assets ?? {}).sort()) hash.update(name).update(assets![name]);
  return hash.digest('hex');
}

/** One generation engine per model shape; it holds one policy's weights at a time. */
interface Slot {
  engine: Promise<Engine>;
  holds: string | undefined;
  busy: Promise<unknown>;
}

/**
 * Policies for generation on a rollout worker. Weights are fetched from S3 (hash-checked) once
 * per version and kept for the `capacity` most recent versions; each model shape has one engine
 * (its sessions built once) into which the asked-for version's weights are swapped. Calls on an
 * engine run one at a time, so a swap never happens under a running generation.
 */
export class PolicyPool {
  private readonly weights: BoundedCache<string, Promise<TrainerState>>;
  private readonly slots = new Map<string, Slot>();

  /** `device`: this worker's hardware, where its engines run. */
  constructor(
    private readonly store: ArtifactStore,
    private readonly device: Device = { kind: 'cpu' },
    capacity = 2,
  ) {
    this.weights = new BoundedCache(capacity);
  }

  async use<T>(policy: CheckpointRef, runtime: PolicyRuntime, work: (engine: Engine) => Promise<T>, t = new Timings()): Promise<T> {
    const state = await t.time('s3', () => this.weightsOf(policy));
    const key = JSON.stringify([state.config, assetsHash(state.assets)]);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { engine: Engine.start({ ...runtime, device: this.device, config: state.config, weights: state.weights, assets: state.assets }), holds: policy.uri, busy: Promise.resolve() };
      slot.engine.catch(() => this.slots.delete(key));
      this.slots.set(key, slot);
    }
    const s = slot;
    const run = s.busy.then(async () => {
      const engine = await t.time('engine', () => s.engine);
      if (s.holds !== policy.uri) {
        await t.time('engine', () => engine.setWeights(state.weights));
        s.holds = policy.uri;
      }
      return work(engine);
    });
    s.busy = run.catch(() => undefined);
    return run;
  }

  /** The tokenizer files and chat template the policy's checkpoint carries (none: the byte tokenizer). */
  async assetsOf(policy: CheckpointRef): Promise<Record<string, Uint8Array> | undefined> {
    return (await this.weightsOf(policy)).assets;
  }

  /** A policy this process just produced (the trainer's new weights): no need to fetch it back. */
  remember(policy: CheckpointRef, state: TrainerState): void {
    this.weights.set(policy.uri, Promise.resolve(state));
  }

  private weightsOf(policy: CheckpointRef): Promise<TrainerState> {
    let state = this.weights.get(policy.uri);
    if (!state) {
      state = loadTrainerState(this.store, policy, { weightsOnly: true });
      state.catch(() => this.weights.delete(policy.uri));
      this.weights.set(policy.uri, state);
    }
    return state;
  }

  async close(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map((s) => s.engine.then((e) => e.close(), () => undefined)));
  }
}
