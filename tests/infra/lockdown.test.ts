import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Env } from '../../schemas/environment';
import { toolPath } from '../../infra/local/tools';
import { ArtifactStore } from '../../storage/artifact-store';
import { PrivateStack } from '../../infra/local/private-stack';

/**
 * The embedded S3 server answers the S3 API with its keys and nothing else: its inner HTTP
 * endpoints (filer, master admin) are closed, its volume servers want a signed token, and its
 * gRPC ports a client certificate. Checked on a stack of this file's own, so a hole found here
 * cannot touch anyone's data.
 */
let stack: PrivateStack;

before(async () => {
  stack = await PrivateStack.start(16000);
});

after(async () => {
  await stack?.stop();
});

const status = (url: string, init?: RequestInit) => fetch(url, init).then((r) => r.status, () => 0);

test('the embedded S3 server accepts nothing writable without credentials but the S3 API', async () => {
  const store = ArtifactStore.fromEnv(s3Env({ ...process.env, ...stack.env }));
  const { ref } = await store.putBytes(store.key('lockdown/keep.txt'), Buffer.from('keep me'));

  const filer = `http://127.0.0.1:${stack.innerPort(8888)}`;
  const master = `http://127.0.0.1:${stack.innerPort(9333)}`;
  const volume = `http://127.0.0.1:${stack.innerPort(9340)}`;
  const refused = [
    ['filer write', await status(`${filer}/buckets/r1-pipeline/lockdown/evil.txt`, { method: 'PUT', body: 'evil' })],
    ['filer read', await status(`${filer}/buckets/r1-pipeline/lockdown/keep.txt`)],
    ['filer recursive delete', await status(`${filer}/buckets/r1-pipeline/?recursive=true`, { method: 'DELETE' })],
    ['master collection delete', await status(`${master}/col/delete?collection=`)],
    ['master file id', await status(`${master}/dir/assign`)],
    ['volume write', await status(`${volume}/1,01637037d6`, { method: 'POST', body: 'evil' })],
    ['volume delete', await status(`${volume}/1,01637037d6`, { method: 'DELETE' })],
  ].filter(([, code]) => (code as number) >= 200 && (code as number) < 300);
  assert.deepEqual(refused, []);

  // SeaweedFS's own shell, without the stack's client certificate, cannot reach the gRPC ports.
  const shell = spawn(toolPath('weed'), ['shell', `-master=127.0.0.1:${stack.innerPort(9333)}`], { cwd: mkdtempSync(join(tmpdir(), 'r1-shell-')), stdio: ['pipe', 'pipe', 'pipe'] });
  let said = '';
  shell.stdout.on('data', (d: Buffer) => (said += d.toString()));
  shell.stdin.write('fs.rm -r /buckets/r1-pipeline\n');
  await new Promise((r) => setTimeout(r, 8000));
  shell.kill('SIGKILL');
  assert.doesNotMatch(said, /lockdown|keep\.txt/);

  assert.equal((await store.getBytes(ref)).toString(), 'keep me');
});
