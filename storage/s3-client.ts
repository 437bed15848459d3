import { S3Client } from '@aws-sdk/client-s3';
import type { S3Env } from '../schemas/environment';
import { OutageRetry } from './outage-retry';

/**
 * One client configuration for AWS S3 and third-party servers alike. Since SDK 3.729 the default
 * checksum mode sends streaming bodies in a chunked-trailer format that SeaweedFS, MinIO, Ceph
 * and R2 reject or store wrongly; WHEN_REQUIRED keeps plain bodies. We verify content ourselves
 * with SHA-256, so nothing is lost. Transient failures are retried for the outage budget.
 */
export function createS3Client(env: S3Env): S3Client {
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: env.forcePathStyle,
    credentials:
      env.accessKeyId && env.secretAccessKey
        ? { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey }
        : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryStrategy: new OutageRetry(env.outageBudgetSeconds * 1000),
  });
}
