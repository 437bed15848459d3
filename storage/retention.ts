import { isPolicyRun, keys, stepObject } from '../schemas/layout';
import type { Retention } from '../schemas/retention';
import { CheckpointManifestSchema, type CheckpointManifest } from '../schemas/manifest';
import type { ArtifactStore } from './artifact-store';
import { checkpointsPrefix, readManifest } from './checkpoints';

/**
 * Retention (schemas/retention.ts) over a pipeline's checkpoints in S3. A checkpoint it deletes
 * is retired: its manifest is moved into `manifest.retired.json` (with when and why) first, so
 * that the checkpoint stops existing before any of its files go, and then every other object of
 * its step folder is deleted. Files are never shared between step folders (their keys carry
 * their folder), so what a kept manifest lists is never touched. A retirement cut short is
 * finished by the next pass: a folder with a retired manifest and files left loses the files.
 */

/** The steps of a run to keep: see RetentionSchema. `finished`: the run's phase is done (policy snapshots then go too). */
export function stepsToKeep(run: string, steps: readonly number[], retention: Retention, finished: boolean): Set<number> {
  const sorted = [...steps].sort((a, b) => a - b);
  if (isPolicyRun(run)) return new Set(finished ? [] : sorted.slice(-1));
  if (retention.keepLast === undefined) return new Set(sorted);
  const every = retention.keepEvery;
  return new Set([...sorted.slice(-retention.keepLast), ...sorted.filter((s) => every !== undefined && s % every === 0)]);
}

interface StepFolder {
  run: string;
  step: number;
  folder: string;
  manifest: boolean;
  retired: boolean;
  /** Every other object of the folder (rejected manifests aside, which stay for whoever investigates). */
  files: { key: string; bytes: number }[];
}

/** The step folders of a pipeline's checkpoints (of `runs` only, when given), from one listing. */
async function stepFolders(store: ArtifactStore, pipelineId: string, runs?: readonly string[]): Promise<StepFolder[]> {
  const folders = new Map<string, StepFolder>();
  const prefixes = runs ? runs.map((run) => checkpointsPrefix(store, pipelineId, run)) : [checkpointsPrefix(store, pipelineId)];
  for (const prefix of prefixes) {
    for await (const { key, bytes } of store.list(prefix)) {
      const at = stepObject(key);
      if (!at) continue;
      const folder = folders.get(at.folder) ?? { run: at.run, step: at.step, folder: at.folder, manifest: false, retired: false, files: [] };
      folders.set(at.folder, folder);
      if (key === keys.manifest(at.folder)) folder.manifest = true;
      else if (key === keys.retiredManifest(at.folder)) folder.retired = true;
      else if (key !== keys.rejectedManifest(at.folder)) folder.files.push({ key, bytes });
    }
  }
  return [...folders.values()];
}

export interface RetentionResult {
  /** Checkpoints retired by this pass, by run. */
  retired: { run: string; step: number; bytes: number }[];
  /** Bytes deleted by this pass (files of retired checkpoints, and leftovers of earlier passes). */
  deletedBytes: number;
}

/**
 * Applies `retention` to a pipeline's checkpoints (to `runs` only, when given). `finished` says
 * whether a run's phase is done: its policy snapshots are then all deleted.
 */
export async function applyRetention(
  store: ArtifactStore,
  pipelineId: string,
  retention: Retention,
  opts: { runs?: readonly string[]; finished: (run: string) => boolean; dryRun?: boolean },
): Promise<RetentionResult> {
  const folders = await stepFolders(store, pipelineId, opts.runs);
  const result: RetentionResult = { retired: [], deletedBytes: 0 };
  const byRun = new Map<string, StepFolder[]>();
  for (const f of folders) byRun.set(f.run, [...(byRun.get(f.run) ?? []), f]);
  for (const [run, list] of [...byRun].sort((a, b) => a[0].localeCompare(b[0]))) {
    const checkpoints = list.filter((f) => f.manifest);
    const keep = stepsToKeep(run, checkpoints.map((f) => f.step), retention, opts.finished(run));
    for (const f of list.sort((a, b) => a.step - b.step)) {
      const retire = f.manifest && !keep.has(f.step);
      // A folder retired earlier that still has files: a pass cut short (or a zombie's commit).
      const leftovers = !f.manifest && f.retired && f.files.length > 0;
      if (!retire && !leftovers) continue;
      const bytes = f.files.reduce((n, file) => n + file.bytes, 0);
      if (retire) result.retired.push({ run, step: f.step, bytes });
      result.deletedBytes += bytes;
      if (opts.dryRun) continue;
      if (retire) await retireManifest(store, f.folder, `retention: ${describeRetention(retention)}`);
      for (const file of f.files) await store.delete(file.key);
    }
  }
  return result;
}

/** Moves a checkpoint's manifest into its retired record: from then on the checkpoint does not exist. */
async function retireManifest(store: ArtifactStore, folder: string, reason: string): Promise<void> {
  const key = keys.manifest(folder);
  const manifest = (await store.getBytes({ uri: store.uri(key) })).toString('utf8');
  await store.putBytes(keys.retiredManifest(folder), Buffer.from(JSON.stringify({ reason, retiredAt: new Date().toISOString(), manifest }, null, 2)));
  await store.delete(key);
}

/** A retired checkpoint's manifest as it was, or null when the checkpoint was not retired. */
export async function readRetiredManifest(store: ArtifactStore, manifestKey: string): Promise<{ body: Buffer; retiredAt: string; reason: string } | null> {
  const folder = manifestKey.slice(0, manifestKey.length - keys.manifest('').length);
  const key = keys.retiredManifest(folder);
  if (!(await store.exists(key))) return null;
  const record = JSON.parse((await store.getBytes({ uri: store.uri(key) })).toString('utf8')) as { manifest: string; retiredAt: string; reason: string };
  return { body: Buffer.from(record.manifest, 'utf8'), retiredAt: record.retiredAt, reason: record.reason };
}

export function describeRetention(retention: Retention): string {
  const kept = retention.keepLast === undefined ? 'every checkpoint' : `the last ${retention.keepLast} checkpoints${retention.keepEvery ? ` and those at multiples of ${retention.keepEvery} steps` : ''}`;
  return `${kept} of each run and its newest; policy snapshots once no rollout needs them`;
}

/** What a pipeline holds in S3 now, and what retention deleted (the files its retired manifests list). */
export async function storedBytes(store: ArtifactStore, pipelineId: string): Promise<{ liveBytes: number; retiredCheckpoints: number; retiredBytes: number }> {
  let liveBytes = 0;
  let retiredCheckpoints = 0;
  let retiredBytes = 0;
  for await (const { key, bytes } of store.list(store.key(keys.pipeline(pipelineId)))) {
    liveBytes += bytes;
    const at = stepObject(key);
    if (!at || key !== keys.retiredManifest(at.folder)) continue;
    const record = JSON.parse((await store.getBytes({ uri: store.uri(key) })).toString('utf8')) as { manifest: string };
    const manifest = JSON.parse(record.manifest) as { files: { bytes: number }[] };
    retiredCheckpoints += 1;
    retiredBytes += manifest.files.reduce((n, f) => n + f.bytes, 0);
  }
  return { liveBytes, retiredCheckpoints, retiredBytes };
}

/** A checkpoint's manifest whether the checkpoint is kept or was retired (its files then gone), by its ref. */
export async function readKeptOrRetiredManifest(store: ArtifactStore, ref: { uri: string; sha256?: string }): Promise<CheckpointManifest> {
  return readManifest(store, ref).catch(async (err: unknown) => {
    const kept = await readRetiredManifest(store, store.keyOf(ref.uri));
    if (!kept) throw err;
    return CheckpointManifestSchema.parse(JSON.parse(kept.body.toString('utf8')));
  });
}

/** The manifests of a run's checkpoints, kept or retired, by step. */
export async function runManifests(store: ArtifactStore, pipelineId: string, run: string): Promise<{ step: number; manifest: CheckpointManifest }[]> {
  const found: { step: number; manifest: CheckpointManifest }[] = [];
  for await (const { key } of store.list(checkpointsPrefix(store, pipelineId, run))) {
    const at = stepObject(key);
    if (!at) continue;
    if (key === keys.manifest(at.folder)) found.push({ step: at.step, manifest: await readManifest(store, { uri: store.uri(key) }) });
    else if (key === keys.retiredManifest(at.folder)) found.push({ step: at.step, manifest: await readKeptOrRetiredManifest(store, { uri: store.uri(keys.manifest(at.folder)) }) });
  }
  return found.sort((a, b) => a.step - b.step);
}
