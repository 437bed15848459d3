import { keys } from '../schemas/layout';
import type { Metrics } from '../schemas/metrics';
import type { ArtifactStore } from '../storage/artifact-store';
import { encodeEventFile, type ScalarPoint } from '../storage/tfevents';

/**
 * A run's training curves for TensorBoard: each step's metrics, kept by its trainer until the
 * checkpoint that ends them is committed, then written beside the run's checkpoints as one
 * event file (schemas/layout.ts keys.eventFile). A step replayed by another trainer is written
 * again under the same name, so no step shows twice.
 */
export class Curves {
  private points: ScalarPoint[] = [];

  add(step: number, metrics: Metrics): void {
    this.points.push({ step, wallTime: Date.now() / 1000, values: metrics });
  }

  /** Writes the points kept so far, and forgets them. */
  async flush(store: ArtifactStore, where: { pipelineId: string; phase: string }): Promise<void> {
    const points = this.points;
    if (points.length === 0) return;
    await store.putBytes(store.key(keys.eventFile(where.pipelineId, where.phase, points[0].step)), encodeEventFile(points));
    this.points = [];
  }
}
