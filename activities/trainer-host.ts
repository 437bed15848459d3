import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { checkDevice } from '../engine/device';
import { Engine } from '../engine/engine';
import type { TrainerState } from '../engine/checkpoint';
import type { NamedTensors } from '../engine/tensors';
import type { Device } from '../schemas/device';
import type { Lora } from '../schemas/lora';
import { modelConfigSchema, type ModelConfig } from '../schemas/model';
import type { CheckpointRef } from '../schemas/refs';
import type { PolicyRuntime } from '../schemas/runtime';
import type { TrainerOf } from '../schemas/training';
import type { ArtifactStore } from '../storage/artifact-store';
import { BoundedCache } from './bounded-cache';
import { Curves } from './curves';
import { TrainerLeavingError } from './errors';
import { loadNewestUsable, loadTrainerState } from './model-checkpoints';

/**
 * The trainers living in one worker process. A phase's training steps all go to the same
 * process through its worker-specific task queue (`queue`), so weights and optimizer state stay
 * in memory between steps instead of round-tripping through S3.
 *
 * Each trainer remembers which checkpoint lineage it continues (`basis`, the uri of the last
 * checkpoint it restored or committed) and how many steps it has applied on top. Training
 * activities compare that with the latest committed checkpoint before trusting the memory.
 */
export interface LiveTrainer {
  engine: Engine;
  config: ModelConfig;
  basis: string;
  step: number;
  /** The metrics of the steps since the last checkpoint, written with the next one. */
  curves: Curves;
  /** The model's tokenizer files and chat template (checkpoint assets), which its checkpoints carry on. */
  assets?: Record<string, Uint8Array>;
  /** Commits the steps applied since the last checkpoint, naming why; set while there are any. */
  saveOnExit?: (reason: string) => Promise<unknown>;
}

export class TrainerHost {
  /** This process's own task queue; `claimTrainer` hands it to a phase. */
  readonly queue = `r1-trainer-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly trainers: BoundedCache<string, LiveTrainer>;
  private busy: Promise<unknown> = Promise.resolve();
  private stopping = false;

  /**
   * `device`: this worker's hardware, where its engines run (checked here, so that a worker
   * without what it needs stops at once). Two trainers by default: phases
   * running side by side on one process (R1 and R1-Zero in the demo) each keep their state; with
   * one, every step of either would restore from S3 and replay.
   */
  constructor(
    readonly device: Device = { kind: 'cpu' },
    maxTrainers = 2,
  ) {
    checkDevice(device);
    this.trainers = new BoundedCache(maxTrainers);
  }

  /**
   * Runs training work one call at a time. An attempt that Temporal already timed out may still
   * be running here (a zombie) when its replacement arrives; the replacement waits until the
   * zombie notices its cancellation at a step boundary instead of tearing its trainer down.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * The process is shutting down (its workers no longer poll): the training call under way
   * commits what it trained and tells its phase to claim another trainer, instead of the phase
   * finding out by a timeout on a queue nobody serves; without one, the trainers save their steps
   * beyond their last checkpoint now, for whoever takes their phases over.
   */
  leave(): void {
    this.stopping = true;
    void this.exclusive(() => this.saveAll('worker shutdown'));
  }

  get leaving(): boolean {
    return this.stopping;
  }

  /** Settles once the training call under way (if any) has. */
  idle(): Promise<void> {
    return this.busy.then(() => undefined);
  }

  /**
   * Runs a training call when its turn comes, unless by then this process is leaving: its phase
   * must claim another trainer, which restores what is saved here first.
   */
  train<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      if (this.stopping) {
        await this.saveAll('worker shutdown');
        throw new TrainerLeavingError(`trainer ${this.queue} is shutting down; the phase claims another`);
      }
      return work();
    });
  }

  /** The trainer of `key`, now the most recently used. */
  get(key: string): LiveTrainer | undefined {
    return this.trainers.get(key);
  }

  /**
   * Starts a trainer for `key` (`<pipeline>/<phase>`, trainerKey) from a saved state; with `lora`,
   * one that trains adapters on the frozen `lora.base` (the phase's base model: a LoRA
   * checkpoint's own weights are merged, so the trainer takes only its adapters and moments). A
   * pipeline's phases run one after another, so the trainers of its other phases are done: they
   * go first (a real model's trainer holds gigabytes). A full host then evicts its least recently
   * used trainer. Either saves its steps beyond its last checkpoint first, as a shutdown does.
   */
  async start(
    key: string,
    state: TrainerState,
    opts: { runtime: PolicyRuntime; basis: string; step: number; reference?: TrainerState; lora?: { config: Lora; base: NamedTensors } },
  ): Promise<LiveTrainer> {
    await this.drop(key);
    const pipeline = key.slice(0, key.indexOf('/') + 1);
    for (const other of this.trainers.keys()) if (pipeline && other.startsWith(pipeline)) await this.saveAndDrop(other, 'next phase');
    // Evicted here rather than by the cache: a trainer saves its steps before its engine goes.
    while (this.trainers.size >= this.trainers.capacity) await this.saveAndDrop(this.trainers.leastRecent()!, 'trainer evicted');
    const engine = await Engine.start({
      ...opts.runtime,
      device: this.device,
      config: state.config,
      weights: opts.lora?.base ?? (opts.reference ?? state).weights,
      ...(opts.lora && { lora: opts.lora.config }),
      assets: state.assets,
    });
    if (opts.reference) {
      // The KL term's reference is the phase's starting policy; a saved state continues from there.
      await engine.snapshotReference();
    }
    if (state.optimizer || state.rng) {
      await engine.importState({
        config: state.config,
        weights: state.weights,
        optimizer: state.optimizer ?? zeroOptimizer(state),
        rng: state.rng ?? (await engine.exportState()).rng,
        lora: state.lora,
      });
    }
    const trainer = { engine, config: modelConfigSchema.parse(state.config), basis: opts.basis, step: opts.step, curves: new Curves(), assets: state.assets };
    this.trainers.set(key, trainer);
    return trainer;
  }

  /** Commits each trainer's steps beyond its last checkpoint (a trainer with none has no `saveOnExit`). */
  private async saveAll(reason: string): Promise<void> {
    for (const key of this.trainers.keys()) await this.save(key, reason);
  }

  private async save(key: string, reason: string): Promise<void> {
    await this.trainers.get(key)?.saveOnExit?.(reason).catch((err) => console.warn(`trainer ${key}: could not checkpoint (${reason}): ${err}`));
  }

  private async saveAndDrop(key: string, reason: string): Promise<void> {
    await this.save(key, reason);
    await this.drop(key);
  }

  async drop(key: string): Promise<void> {
    const trainer = this.trainers.get(key);
    if (!trainer) return;
    this.trainers.delete(key);
    await trainer.engine.close();
  }

  /**
   * The process is shutting down: trainers first save what they hold beyond their last
   * checkpoint, so that whoever takes their phases over restores it instead of replaying steps.
   */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      for (const key of this.trainers.keys()) await this.saveAndDrop(key, 'worker shutdown');
    });
  }
}

function zeroOptimizer(state: TrainerState) {
  const zeros = () =>
    Object.fromEntries(Object.entries(state.weights).map(([k, t]) => [k, { dims: [...t.dims], data: new Float32Array(t.data.length) }]));
  return { m: zeros(), v: zeros(), step: 0 };
}

/** A phase's trainer in a host: phase names repeat across pipelines. */
export const trainerKey = (where: { pipelineId: string; phase: string }) => `${where.pipelineId}/${where.phase}`;

/**
 * Brings the phase's trainer in this process to `latest`, the phase's latest committed checkpoint
 * (null: none yet, start from `base`): kept in memory when it already stands there, restored from
 * S3 otherwise (a new process, or one whose memory is off the committed lineage). A checkpoint
 * that fails verification is set aside and the one before it restored instead: `checkpoint` is
 * the one the trainer now continues.
 */
export async function resumeTrainer(
  store: ArtifactStore,
  host: TrainerHost,
  input: TrainerOf,
  latest: CheckpointRef | null,
  opts: { withReference: boolean },
): Promise<{ trainer: LiveTrainer; checkpoint: CheckpointRef | null }> {
  const live = host.get(trainerKey(input));
  if (live && live.basis === (latest ?? input.base).uri && live.step === (latest?.step ?? 0)) return { trainer: live, checkpoint: latest };

  // A phase starts with a fresh optimizer (the base's own is never read); a checkpoint of this phase brings its own.
  const baseState = await loadTrainerState(store, input.base, { weightsOnly: true });
  const restored = latest ? await loadNewestUsable(store, latest) : null;
  const state = restored?.state ?? { config: baseState.config, weights: baseState.weights, assets: baseState.assets };
  const checkpoint = restored?.checkpoint ?? null;
  const trainer = await host.start(trainerKey(input), state, {
    runtime: input.runtime,
    basis: (checkpoint ?? input.base).uri,
    step: checkpoint?.step ?? 0,
    reference: opts.withReference ? baseState : undefined,
    ...(input.lora && { lora: { config: input.lora, base: baseState.weights } }),
  });
  return { trainer, checkpoint };
}
