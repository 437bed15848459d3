import { keys, manifestStep, phaseOfRun, phaseWorkflowId } from '../schemas/layout';
import { CheckpointManifestSchema, type CheckpointManifest } from '../schemas/manifest';
import { PipelineIdSchema } from '../schemas/pipeline-spec';
import { describeEnvironment } from '../schemas/provenance';
import { sha256Hex, type ArtifactStore } from '../storage/artifact-store';
import { checkpointsPrefix } from '../storage/checkpoints';
import { readRetiredManifest } from '../storage/retention';
import { ArtifactNotFoundError } from '../storage/errors';

/**
 * `r1 verify <id|manifest-uri>`: re-checks a checkpoint lineage from S3 alone, as after a restore
 * from backup or a copy between buckets. Every checkpoint of the pipeline (or the one manifest
 * named) and every ancestor its parent links reach, in other pipelines too:
 *  - its manifest is valid and lies where its pipeline, phase and step say it belongs, so no step
 *    appears twice in a phase;
 *  - its producer is its pipeline's workflow or its phase's;
 *  - each file exists at its content-hashed key with the size and SHA-256 the manifest records;
 *  - its parent's manifest exists with the SHA-256 and size the link records, is the checkpoint
 *    the link names, and comes at an earlier step when it is of the same phase.
 * A parent deleted by retention (storage/retention.ts) is checked by the manifest its retired
 * record keeps: its files are gone, its place in the lineage is not.
 * It stops at the first problem and names the object.
 */

/** The first thing found wrong: the object it is about, and what. */
export class LineageProblem extends Error {
  constructor(
    readonly uri: string,
    readonly problem: string,
  ) {
    super(`${uri}: ${problem}`);
  }
}

export interface VerifiedLineage {
  checkpoints: number;
  /** Ancestors deleted by retention, verified by their retired manifests. */
  retired: number;
  files: number;
  bytes: number;
  /** How many checkpoints each producer environment made (describeEnvironment), by line. */
  producers: Map<string, number>;
}

interface Verified {
  sha256: string;
  bytes: number;
  manifest: CheckpointManifest;
}

export async function verifyLineage(store: ArtifactStore, target: string): Promise<VerifiedLineage> {
  const lineage: VerifiedLineage = { checkpoints: 0, retired: 0, files: 0, bytes: 0, producers: new Map() };
  const verified = new Map<string, Verified>();
  const open = new Set<string>();
  const checkpoint = async (key: string): Promise<Verified> => {
    const done = verified.get(key);
    if (done) return done;
    if (open.has(key)) throw new LineageProblem(store.uri(key), 'its parent links lead back to it');
    open.add(key);
    const result = await verifyCheckpoint(key);
    open.delete(key);
    verified.set(key, result);
    return result;
  };

  /** A key of this bucket, from a uri that `by` records. */
  const keyIn = (uri: string, by: string) => {
    if (!uri.startsWith(`s3://${store.bucket}/`)) throw new LineageProblem(by, `refers to ${uri}, outside bucket ${store.bucket}`);
    return store.keyOf(uri);
  };

  const verifyCheckpoint = async (key: string): Promise<Verified> => {
    const uri = store.uri(key);
    const { ref, body, retired } = await store.adopt(uri).then(
      (found) => ({ ...found, retired: false }),
      async (err: unknown) => {
        if (!(err instanceof ArtifactNotFoundError)) throw err;
        const kept = await readRetiredManifest(store, key);
        if (!kept) throw new LineageProblem(uri, 'manifest missing');
        return { ref: { sha256: sha256Hex(kept.body), bytes: kept.body.length }, body: kept.body, retired: true };
      },
    );
    const manifest = parseManifest(uri, body);
    const folder = store.key(keys.checkpointStep(manifest.pipelineId, manifest.phase, manifest.step));
    if (keys.manifest(folder) !== key) {
      throw new LineageProblem(uri, `records ${manifest.pipelineId} ${manifest.phase} step ${manifest.step}, whose manifest belongs at ${store.uri(keys.manifest(folder))}`);
    }
    const workflows = [manifest.pipelineId, phaseWorkflowId(manifest.pipelineId, phaseOfRun(manifest.phase))];
    if (!workflows.includes(manifest.producer.workflowId)) {
      throw new LineageProblem(uri, `producer workflow ${manifest.producer.workflowId} is neither ${workflows.join(' nor ')}`);
    }

    // A retired checkpoint's files were deleted on purpose.
    for (const file of retired ? [] : manifest.files) {
      const fileUri = store.uri(file.key);
      const expectedKey = keys.checkpointFile(folder, file.sha256, file.name);
      if (file.key !== expectedKey) throw new LineageProblem(uri, `lists ${file.name} at ${fileUri}; by its SHA-256 it belongs at ${store.uri(expectedKey)}`);
      const actual = await store.hashOf(fileUri).catch((err) => {
        throw err instanceof ArtifactNotFoundError ? new LineageProblem(fileUri, `missing (listed by ${uri})`) : err;
      });
      if (actual.bytes !== file.bytes) throw new LineageProblem(fileUri, `${actual.bytes} bytes, but ${uri} records ${file.bytes}`);
      if (actual.sha256 !== file.sha256) throw new LineageProblem(fileUri, `SHA-256 ${actual.sha256} differs from ${file.sha256} recorded by ${uri}`);
      lineage.files += 1;
      lineage.bytes += file.bytes;
    }

    const link = manifest.parent;
    if (link) {
      const samePhase = link.pipelineId === manifest.pipelineId && link.phase === manifest.phase;
      if (samePhase && link.step >= manifest.step) throw new LineageProblem(uri, `its parent is step ${link.step} of the same phase: steps must increase along a lineage`);
      const parent = await checkpoint(keyIn(link.uri, uri));
      if (parent.sha256 !== link.sha256 || parent.bytes !== link.bytes) {
        throw new LineageProblem(link.uri, `SHA-256 ${parent.sha256} (${parent.bytes} bytes) differs from ${link.sha256} (${link.bytes} bytes) recorded as the parent of ${uri}`);
      }
      const p = parent.manifest;
      if (p.pipelineId !== link.pipelineId || p.phase !== link.phase || p.step !== link.step) {
        throw new LineageProblem(uri, `names its parent ${link.pipelineId} ${link.phase} step ${link.step}, but ${link.uri} is ${p.pipelineId} ${p.phase} step ${p.step}`);
      }
    }

    if (retired) lineage.retired += 1;
    else lineage.checkpoints += 1;
    const producer = manifest.environment ? describeEnvironment(manifest.environment) : '(not recorded: written before environments were)';
    lineage.producers.set(producer, (lineage.producers.get(producer) ?? 0) + 1);
    return { sha256: ref.sha256, bytes: ref.bytes, manifest };
  };

  // One at a time, in key order: the first problem reported is the same on every run.
  for (const key of await startingKeys(store, target)) await checkpoint(key);
  return lineage;
}

/** The manifests to start from: the one named, or every complete checkpoint of the pipeline. */
async function startingKeys(store: ArtifactStore, target: string): Promise<string[]> {
  if (target.startsWith('s3://')) {
    if (!target.startsWith(`s3://${store.bucket}/`)) throw new LineageProblem(target, `lies outside this deployment's bucket ${store.bucket}`);
    return [store.keyOf(target)];
  }
  const prefix = checkpointsPrefix(store, target);
  const found: string[] = [];
  for await (const { key } of store.list(prefix)) if (manifestStep(key) !== null) found.push(key);
  if (found.length === 0) throw new LineageProblem(store.uri(prefix), 'no complete checkpoint here');
  return found.sort();
}

function parseManifest(uri: string, body: Buffer): CheckpointManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new LineageProblem(uri, `not JSON: ${(err as Error).message}`);
  }
  const parsed = CheckpointManifestSchema.safeParse(json);
  if (!parsed.success) throw new LineageProblem(uri, `not a valid manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The command: exit 0 with a summary, 1 naming the first problem, 2 on bad usage. */
export async function runVerify(store: ArtifactStore, target: string): Promise<number> {
  if (!target.startsWith('s3://') && !PipelineIdSchema.safeParse(target).success) {
    console.error(`r1 verify: "${target}" is neither a pipeline id nor the s3:// uri of a manifest`);
    return 2;
  }
  try {
    const { checkpoints, retired, files, bytes, producers } = await verifyLineage(store, target);
    console.log(
      `${target}: lineage verified: ${checkpoints} checkpoints, ${files} files (${(bytes / 1e6).toFixed(1)} MB) match their SHA-256; ` +
        (retired ? `${retired} ancestors deleted by retention match by their retired manifests; ` : '') +
        'every parent link and producer checks out; no step appears twice in a phase',
    );
    console.log('made by:');
    for (const [producer, count] of [...producers].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${String(count).padStart(4)} x ${producer}`);
    return 0;
  } catch (err) {
    if (!(err instanceof LineageProblem)) throw err;
    console.error(`r1 verify: ${err.message}`);
    return 1;
  }
}
