import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded SeaweedFS exposes nothing writable but the S3 API (with its keys): its inner HTTP
 * endpoints are off (`-disableHttp`: the filer and master admin URLs answered unauthenticated
 * writes, deletes and `/col/delete`), the volume servers want a signed JWT for every read and
 * write, and its gRPC ports want a client certificate from a CA made here. The keys and
 * certificates are made once per data folder with openssl and kept beside the data; SeaweedFS
 * reads them from `security.toml` in its working folder, which is the folder returned.
 */
export function ensureS3Security(dataDir: string): string {
  const dir = join(dataDir, 's3-security');
  const toml = join(dir, 'security.toml');
  if (existsSync(toml)) return dir;
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '3650', '-subj', '/CN=r1-stack-ca', '-keyout', file('ca.key'), '-out', file('ca.crt'));
  openssl('req', ...ec, '-subj', '/CN=r1-stack', '-keyout', file('stack.key'), '-out', file('stack.csr'));
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', file('stack.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '3650', '-out', file('stack.crt'), '-extfile', file('san.cnf'));

  const jwt = (section: string) => `[${section}]\nkey = "${randomBytes(32).toString('hex')}"\n`;
  const certificate = (section: string) => `[${section}]\ncert = "${file('stack.crt')}"\nkey = "${file('stack.key')}"\n`;
  writeFileSync(
    toml,
    [
      ...['jwt.signing', 'jwt.signing.read', 'jwt.filer_signing', 'jwt.filer_signing.read'].map(jwt),
      `[grpc]\nca = "${file('ca.crt')}"\n`,
      ...['grpc.master', 'grpc.volume', 'grpc.filer', 'grpc.s3', 'grpc.admin', 'grpc.client'].map(certificate),
    ].join('\n'),
    { mode: 0o600 },
  );
  return dir;
}
