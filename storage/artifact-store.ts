import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactRef } from '../schemas/refs';
import { s3Env, type S3Env } from '../schemas/environment';
import { createS3Client } from './s3-client';
import { ArtifactNotFoundError, ChecksumMismatchError } from './errors';

/** Object metadata key holding the SHA-256 we computed when writing (x-amz-meta-sha256). */
const SHA_META = 'sha256';

export interface ObjectAddress {
  uri: string;
  /** The hash to check against; when absent, the hash recorded in the object's metadata is used. */
  sha256?: string;
}

/** A file produced as chunks on demand, its size known up front (engine/safetensors.ts StreamedFile). */
export interface ChunkedFile {
  bytes: number;
  chunks(): Iterable<Uint8Array>;
}

export function sha256OfChunks(file: ChunkedFile): string {
  const hash = createHash('sha256');
  for (const chunk of file.chunks()) hash.update(chunk);
  return hash.digest('hex');
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A stream stage that hashes and counts what passes through. */
function hashingStage(): Transform & { result(): { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stage = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return Object.assign(stage, { result: () => ({ sha256: hash.digest('hex'), bytes }) });
}

function isStatus(err: unknown, ...codes: number[]): boolean {
  return err instanceof S3ServiceException && codes.includes(err.$metadata.httpStatusCode ?? 0);
}

/**
 * Blobs in S3 with their SHA-256. Every write returns an ArtifactRef carrying the hash; every
 * read checks the bytes against the ref's hash (or, lacking one, the hash stored in the object's
 * metadata at write time) and throws ChecksumMismatchError rather than hand back bad data.
 */
export class ArtifactStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    readonly partSizeBytes: number,
  ) {}

  static fromEnv(env: S3Env = s3Env()): ArtifactStore {
    return new ArtifactStore(createS3Client(env), env.bucket, env.prefix, env.partSizeBytes);
  }

  /** The full key of a path under this deployment's prefix. */
  key(path: string): string {
    return this.prefix + path;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  keyOf(uri: string): string {
    const head = `s3://${this.bucket}/`;
    if (!uri.startsWith(head)) throw new Error(`${uri} is not in bucket ${this.bucket}`);
    return uri.slice(head.length);
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  /** Small objects in one request. With `ifAbsent`, an existing object is left alone and reported. */
  async putBytes(key: string, body: Uint8Array, opts: { ifAbsent?: boolean } = {}): Promise<{ ref: ArtifactRef; created: boolean }> {
    const sha256 = sha256Hex(body);
    const ref = { uri: this.uri(key), sha256, bytes: body.length };
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          Metadata: { [SHA_META]: sha256 },
          // Servers that support conditional writes refuse to overwrite; callers of `ifAbsent`
          // also check existence first, so servers that ignore the header are still safe enough.
          IfNoneMatch: opts.ifAbsent ? '*' : undefined,
        }),
      );
      return { ref, created: true };
    } catch (err) {
      if (opts.ifAbsent && isStatus(err, 412, 409)) return { ref, created: false };
      throw err;
    }
  }

  /** A local file, multipart when larger than one part; the hash is computed first so it can be stored as metadata. */
  async putFile(key: string, path: string, hashed?: { sha256: string; bytes: number }): Promise<ArtifactRef> {
    const { sha256, bytes } = hashed ?? (await sha256OfFile(path));
    await this.upload(key, createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }), { [SHA_META]: sha256 });
    return { uri: this.uri(key), sha256, bytes };
  }

  /** A stream of unknown length, multipart; hashed on the way through. The ref is the record of its hash. */
  async putStream(key: string, body: Readable): Promise<ArtifactRef> {
    const hasher = hashingStage();
    body.on('error', (err) => hasher.destroy(err));
    body.pipe(hasher);
    await this.upload(key, hasher, {});
    const { sha256, bytes } = hasher.result();
    return { uri: this.uri(key), sha256, bytes };
  }

  /**
   * A file made of chunks on demand (a tensor file), multipart: the hash is one pass over the
   * chunks first, since file keys and metadata carry it, then the upload is a second. Memory
   * beyond the caller's tensors is the upload's parts in flight.
   */
  async putChunks(key: string, file: ChunkedFile, sha256 = sha256OfChunks(file)): Promise<ArtifactRef> {
    await this.upload(key, Readable.from(file.chunks(), { objectMode: false }), { [SHA_META]: sha256 });
    return { uri: this.uri(key), sha256, bytes: file.bytes };
  }

  private async upload(key: string, body: Readable, metadata: Record<string, string>): Promise<void> {
    await new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, Metadata: metadata },
      partSize: this.partSizeBytes,
      queueSize: 4,
      leavePartsOnError: false,
    }).done();
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }

  /** The object's body and the hash recorded in its metadata at write time, if any. */
  private async open(uri: string): Promise<{ body: Readable; recorded: string | undefined }> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(uri) }));
      return { body: out.Body as Readable, recorded: out.Metadata?.[SHA_META] };
    } catch (err) {
      if (isStatus(err, 404)) throw new ArtifactNotFoundError(uri);
      throw err;
    }
  }

  private async expectedHash(address: ObjectAddress): Promise<{ body: Readable; expected: string }> {
    const { body, recorded } = await this.open(address.uri);
    const expected = address.sha256 ?? recorded;
    if (!expected) {
      body.destroy();
      throw new ChecksumMismatchError(address.uri, null);
    }
    return { body, expected };
  }

  private static async readAll(body: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The whole object in memory, verified. */
  async getBytes(address: ObjectAddress): Promise<Buffer> {
    const { body, expected } = await this.expectedHash(address);
    const data = await ArtifactStore.readAll(body);
    const actual = sha256Hex(data);
    if (actual !== expected) throw new ChecksumMismatchError(address.uri, expected, actual);
    return data;
  }

  /** The SHA-256 and size of an object as it is now, read through without holding it in memory. */
  async hashOf(uri: string): Promise<{ sha256: string; bytes: number }> {
    const hasher = hashingStage();
    await pipeline((await this.open(uri)).body, hasher, new Writable({ write: (_chunk, _enc, done) => done() }));
    return hasher.result();
  }

  /**
   * The object as a stream of chunks, verified: the last read throws ChecksumMismatchError
   * instead of ending when the bytes do not hash to what was recorded, so a consumer that reads
   * to the end never takes bad data for good. Memory: one chunk at a time.
   */
  async *getStream(address: ObjectAddress): AsyncGenerator<Buffer> {
    const { body, expected } = await this.expectedHash(address);
    const hash = createHash('sha256');
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    const actual = hash.digest('hex');
    if (actual !== expected) throw new ChecksumMismatchError(address.uri, expected, actual);
  }

  /**
   * Reads an object written by someone else (a user's dataset): there is no hash to check yet, so
   * the one computed now goes into the returned ref, and every later read by that ref is checked.
   */
  async adopt(uri: string): Promise<{ ref: ArtifactRef; body: Buffer }> {
    const body = await ArtifactStore.readAll((await this.open(uri)).body);
    return { ref: { uri, sha256: sha256Hex(body), bytes: body.length }, body };
  }

  /** As adopt, streamed to a file (an object too large for memory: a user's model weights). */
  async adoptToFile(uri: string, path: string): Promise<ArtifactRef> {
    const hasher = hashingStage();
    await pipeline((await this.open(uri)).body, hasher, createWriteStream(path));
    return { uri, ...hasher.result() };
  }

  /** Streams the object to a file, verified; a file that fails the check is removed, never left behind. */
  async getToFile(address: ObjectAddress, path: string): Promise<{ sha256: string; bytes: number }> {
    const { body, expected } = await this.expectedHash(address);
    const hasher = hashingStage();
    await pipeline(body, hasher, createWriteStream(path));
    const result = hasher.result();
    if (result.sha256 !== expected) {
      await rm(path, { force: true });
      throw new ChecksumMismatchError(address.uri, expected, result.sha256);
    }
    return result;
  }

  /** The first `bytes` bytes of an object (fewer if it is shorter), unchecked: for a look at a user's file. */
  async peek(uri: string, bytes: number): Promise<Buffer> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(uri), Range: `bytes=0-${bytes - 1}` }));
      return await ArtifactStore.readAll(out.Body as Readable);
    } catch (err) {
      if (isStatus(err, 404)) throw new ArtifactNotFoundError(uri);
      if (isStatus(err, 416)) return Buffer.alloc(0); // an empty object has no byte 0
      throw err;
    }
  }

  /** Reads the object through, checking its hash, and keeps nothing: ChecksumMismatchError if it fails. */
  async verify(address: ObjectAddress): Promise<void> {
    const { body, expected } = await this.expectedHash(address);
    const hasher = hashingStage();
    await pipeline(body, hasher, new Writable({ write: (_chunk, _enc, done) => done() }));
    const { sha256 } = hasher.result();
    if (sha256 !== expected) throw new ChecksumMismatchError(address.uri, expected, sha256);
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Every key under a prefix with its size, across as many list pages as it takes. */
  async *list(prefix: string): AsyncGenerator<{ key: string; bytes: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) yield { key: item.Key!, bytes: item.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
