import { keys, manifestStep } from '../schemas/layout';
import { CheckpointManifestSchema, type CheckpointManifest, type ManifestFile, type Producer, type ProducerEnvironment } from '../schemas/manifest';
import type { CheckpointRef } from '../schemas/refs';
import type { Metrics } from '../schemas/metrics';
import { ArtifactStore, sha256Hex, sha256OfChunks, sha256OfFile, type ChunkedFile } from './artifact-store';
import { ArtifactNotFoundError, ChecksumMismatchError, InvalidManifestError } from './errors';

/**
 * Checkpoints in S3 (where: schemas/layout.ts). The commit protocol writes every file first and
 * the manifest last, so a checkpoint without a manifest does not exist. File keys carry their
 * content hash: a zombie attempt still writing the same step can never overwrite the files a
 * committed manifest points at.
 */

export function checkpointsPrefix(store: ArtifactStore, pipelineId: string, phase?: string): string {
  return store.key(keys.checkpoints(pipelineId, phase));
}

export interface CheckpointCommit {
  pipelineId: string;
  phase: string;
  step: number;
  /**
   * File name -> contents: bytes, a local path, or chunks made on demand (tensor files); the
   * last two are uploaded multipart and never held whole.
   */
  files: Record<string, Uint8Array | { path: string } | ChunkedFile>;
  parent: CheckpointRef | null;
  producer: Producer;
  /** What made it: code, engine build, hardware, spec hash (activities/provenance.ts measures it). */
  environment: ProducerEnvironment;
  metrics: Metrics;
}

/**
 * Commits a checkpoint once. Committing the same (pipeline, phase, step) again returns the
 * checkpoint already there, untouched, with `created: false`: step numbers are idempotency keys.
 */
export async function commitCheckpoint(store: ArtifactStore, commit: CheckpointCommit): Promise<{ ref: CheckpointRef; created: boolean }> {
  const folder = store.key(keys.checkpointStep(commit.pipelineId, commit.phase, commit.step));
  const manifestKey = keys.manifest(folder);
  const where = { pipelineId: commit.pipelineId, phase: commit.phase, step: commit.step };

  // Checked before the (possibly large) uploads; the conditional put below closes the race.
  if (await store.exists(manifestKey)) {
    return { ref: { ...(await refOfManifest(store, manifestKey)), ...where }, created: false };
  }

  const files: ManifestFile[] = [];
  for (const [name, content] of Object.entries(commit.files)) {
    const ref =
      content instanceof Uint8Array
        ? (await store.putBytes(keys.checkpointFile(folder, sha256Hex(content), name), content)).ref
        : 'path' in content
          ? await putLocalFile(store, folder, name, content.path)
          : await putChunkedFile(store, folder, name, content);
    const key = store.keyOf(ref.uri);
    files.push({ name, key, bytes: ref.bytes, sha256: ref.sha256 });
  }

  const manifest: CheckpointManifest = CheckpointManifestSchema.parse({
    formatVersion: 1,
    ...where,
    files,
    parent: commit.parent,
    producer: commit.producer,
    environment: commit.environment,
    createdAt: new Date().toISOString(),
    metrics: commit.metrics,
  });
  const body = Buffer.from(JSON.stringify(manifest, null, 2));
  const put = await store.putBytes(manifestKey, body, { ifAbsent: true });
  if (!put.created) return { ref: { ...(await refOfManifest(store, manifestKey)), ...where }, created: false };
  return { ref: { ...put.ref, ...where }, created: true };
}

async function putLocalFile(store: ArtifactStore, folder: string, name: string, path: string) {
  const hashed = await sha256OfFile(path);
  return store.putFile(keys.checkpointFile(folder, hashed.sha256, name), path, hashed);
}

async function putChunkedFile(store: ArtifactStore, folder: string, name: string, file: ChunkedFile) {
  const sha256 = sha256OfChunks(file);
  return store.putChunks(keys.checkpointFile(folder, sha256, name), file, sha256);
}

async function refOfManifest(store: ArtifactStore, key: string) {
  const body = await store.getBytes({ uri: store.uri(key) });
  return { uri: store.uri(key), sha256: sha256Hex(body), bytes: body.length };
}

/** Reads and validates a manifest; its bytes are checked against the ref's hash first. */
export async function readManifest(store: ArtifactStore, ref: { uri: string; sha256?: string }): Promise<CheckpointManifest> {
  const body = await store.getBytes(ref);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidManifestError(ref.uri, `not JSON (${(err as Error).message})`);
  }
  const parsed = CheckpointManifestSchema.safeParse(json);
  if (!parsed.success) throw new InvalidManifestError(ref.uri, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

/**
 * A checkpoint's files for reading, each verified against the manifest's hash: small ones whole
 * (`bytes`), tensor files as verified streams (`stream`), so no file is ever one Buffer.
 */
export async function openCheckpointFiles(store: ArtifactStore, ref: { uri: string; sha256?: string }) {
  const manifest = await readManifest(store, ref);
  const byName = new Map(manifest.files.map((f) => [f.name, f]));
  const address = (name: string) => {
    const file = byName.get(name);
    if (!file) throw new Error(`checkpoint ${ref.uri} has no file ${name}`);
    return { uri: store.uri(file.key), sha256: file.sha256 };
  };
  return {
    manifest,
    names: [...byName.keys()],
    bytes: (name: string) => store.getBytes(address(name)),
    stream: (name: string) => store.getStream(address(name)),
  };
}

/** Every file of a checkpoint, each verified against the manifest's hash. */
export async function readCheckpointFiles(store: ArtifactStore, ref: CheckpointRef): Promise<Record<string, Buffer>> {
  const manifest = await readManifest(store, ref);
  const out: Record<string, Buffer> = {};
  for (const file of manifest.files) out[file.name] = await store.getBytes({ uri: store.uri(file.key), sha256: file.sha256 });
  return out;
}

export interface CheckpointListing {
  step: number;
  manifestKey: string;
}

/** Complete checkpoints of one phase, by step; folders without a manifest are not listed. */
export async function listCheckpoints(store: ArtifactStore, pipelineId: string, phase: string): Promise<CheckpointListing[]> {
  const found: CheckpointListing[] = [];
  for await (const { key } of store.list(checkpointsPrefix(store, pipelineId, phase))) {
    const step = manifestStep(key);
    if (step !== null) found.push({ step, manifestKey: key });
  }
  return found.sort((a, b) => a.step - b.step);
}

/** The ref of a listed checkpoint of `phase`: its manifest's uri and current hash. */
export async function checkpointRefOf(store: ArtifactStore, pipelineId: string, phase: string, listing: CheckpointListing): Promise<CheckpointRef> {
  return { ...(await refOfManifest(store, listing.manifestKey)), pipelineId, phase, step: listing.step };
}

/** The latest complete checkpoint of a phase, or null when it has none. */
export async function latestCheckpoint(store: ArtifactStore, pipelineId: string, phase: string): Promise<CheckpointRef | null> {
  const last = (await listCheckpoints(store, pipelineId, phase)).at(-1);
  return last ? checkpointRefOf(store, pipelineId, phase, last) : null;
}

/** An error that says the checkpoint's objects are bad (as opposed to the store being unreachable). */
export function isCorruption(err: unknown): boolean {
  return err instanceof ChecksumMismatchError || err instanceof InvalidManifestError || err instanceof ArtifactNotFoundError;
}

/** Why a committed checkpoint cannot be used, or null when its manifest and every file check out. Keeps nothing in memory. */
export async function checkpointProblem(store: ArtifactStore, ref: { uri: string }): Promise<string | null> {
  try {
    const manifest = await readManifest(store, ref);
    for (const file of manifest.files) await store.verify({ uri: store.uri(file.key), sha256: file.sha256 });
    return null;
  } catch (err) {
    if (isCorruption(err)) return (err as Error).message;
    throw err;
  }
}

/**
 * Sets a checkpoint that failed verification aside: its manifest moves to manifest.rejected.json
 * with the reason, so that listings no longer return it and its step can be committed again. Its
 * files stay, for whoever investigates.
 */
export async function setAside(store: ArtifactStore, manifestUri: string, reason: string): Promise<void> {
  const key = store.keyOf(manifestUri);
  const folder = key.slice(0, key.length - keys.manifest('').length);
  const manifest = await store.adopt(manifestUri).then(({ body }) => body.toString('utf8'), (err: unknown) => `(unreadable: ${(err as Error).message})`);
  await store.putBytes(keys.rejectedManifest(folder), Buffer.from(JSON.stringify({ reason, rejectedAt: new Date().toISOString(), manifest }, null, 2)));
  await store.delete(key);
}

export interface SetAside {
  step: number;
  uri: string;
  reason: string;
}

/** The newest checkpoint of a phase whose manifest and files verify, setting aside every newer one that does not. */
export async function latestVerifiedCheckpoint(store: ArtifactStore, pipelineId: string, phase: string): Promise<{ checkpoint: CheckpointRef | null; setAside: SetAside[] }> {
  const skipped: SetAside[] = [];
  for (const listing of (await listCheckpoints(store, pipelineId, phase)).reverse()) {
    const uri = store.uri(listing.manifestKey);
    const problem = await checkpointProblem(store, { uri });
    if (problem === null) return { checkpoint: await checkpointRefOf(store, pipelineId, phase, listing), setAside: skipped };
    await setAside(store, uri, problem);
    skipped.push({ step: listing.step, uri, reason: problem });
  }
  return { checkpoint: null, setAside: skipped };
}
