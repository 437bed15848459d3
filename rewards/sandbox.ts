/**
 * Runs one untrusted program in a bubblewrap sandbox.
 *
 * Isolation (checked by tests/rewards/sandbox.test.ts):
 *  - new user, pid, network, ipc and uts namespaces: no network at all (only a private loopback),
 *    no view of host processes, no nested user namespaces;
 *  - the filesystem is a fresh root holding /usr (read-only), /proc, a minimal /dev and a private
 *    tmpfs /sandbox (cwd, size-limited, also reachable as /tmp). No /home, /root, /etc or project
 *    files exist inside. Everything else is read-only;
 *  - prlimit sets CPU seconds, data memory (RLIMIT_DATA: counts heap and anonymous maps but not the
 *    address space V8 merely reserves, so node starts under it), processes, file size, no core dumps;
 *  - this process enforces wall time and output size by killing the program, pid 1 of its
 *    namespace, which takes every process inside down with it (--die-with-parent does the same
 *    if this process dies).
 * When we run as root, bwrap is started as `nobody` (via setpriv): the kernel ignores RLIMIT_NPROC
 * for host root, so a fork bomb would otherwise be unbounded.
 *
 * The program's source reaches the sandbox through a pipe (bwrap --ro-bind-data), so no host
 * temporary files are involved. Python is Debian's /usr/bin/python3; JavaScript runs on this
 * Node binary.
 */
import { spawn } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import type { CodeLanguage, SandboxLimits } from '../schemas/rewards';

export interface SandboxResult {
  outcome: 'exited' | 'timeout' | 'output-limit';
  /** bwrap reports a program killed by signal N as exit code 128 + N. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The first few KiB only: enough for a reason. */
  stderr: string;
  wallMs: number;
}

const NOBODY = 65534;
const STDERR_KEPT = 4096;

const PROGRAMS: Record<CodeLanguage, { interpreter: string; flags: string[]; file: string }> = {
  // -I: ignore PYTHON* variables and user site-packages; -B: write no .pyc files.
  python: { interpreter: '/usr/bin/python3', flags: ['-I', '-B'], file: '/sandbox/main.py' },
  javascript: { interpreter: process.execPath, flags: [], file: '/sandbox/main.js' },
};

// Neither spawn nor bwrap closes descriptors this process inherited without close-on-exec (a
// parent's pipe or socket): close them all inside the sandbox before the program starts.
const CLOSE_INHERITED_FDS = [
  '/usr/bin/python3', '-I', '-S', '-c',
  'import os, sys; os.closerange(3, os.sysconf("SC_OPEN_MAX")); os.execv(sys.argv[1], sys.argv[1:])',
];

/** /bin, /lib... as the host has them: symlinks into /usr on merged-/usr systems, else read-only binds. */
function systemDirs(): string[] {
  const args: string[] = [];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
    try {
      if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else args.push('--ro-bind', dir, dir);
    } catch {
      // Absent on this host: nothing to mirror.
    }
  }
  return args;
}

function sandboxCommand(language: CodeLanguage, limits: SandboxLimits): string[] {
  const { interpreter, flags, file } = PROGRAMS[language];
  const asNobody = process.getuid?.() === 0 ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] : [];
  // A Node installed outside /usr (nvm, CI tool caches) is bound in alone, at the same path.
  const interpreterBind = interpreter.startsWith('/usr/') ? [] : ['--ro-bind', interpreter, interpreter];
  return [
    ...asNobody,
    'bwrap',
    '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session',
    // The program is the namespace's pid 1, so bwrap waits for it (and reaps it) instead of leaving a
    // zombie for a host init that may not reap (containers without --init); fd 4 reports its pid.
    '--as-pid-1', '--info-fd', '4',
    '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/sandbox', '--setenv', 'LANG', 'C.UTF-8',
    '--ro-bind', '/usr', '/usr', ...systemDirs(), ...interpreterBind,
    '--proc', '/proc', '--dev', '/dev',
    '--size', String(limits.diskMb * 1024 * 1024), '--tmpfs', '/sandbox', '--symlink', 'sandbox', '/tmp',
    '--ro-bind-data', '3', file,
    '--remount-ro', '/', '--remount-ro', '/dev',
    '--chdir', '/sandbox',
    ...CLOSE_INHERITED_FDS,
    '/usr/bin/prlimit',
    `--cpu=${limits.cpuSeconds}`, `--data=${limits.memoryMb * 1024 * 1024}`, `--nproc=${limits.processes}`,
    `--fsize=${limits.diskMb * 1024 * 1024}`, '--core=0', '--nofile=256',
    '--', interpreter, ...flags, file,
  ];
}

function killed(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `source` with `stdin` as its input. Rejects only when the sandbox itself cannot be started.
 * An aborted `signal` kills the program (outcome 'timeout'); when already aborted, nothing starts.
 */
export function runInSandbox(language: CodeLanguage, source: string, stdin: string, limits: SandboxLimits, signal?: AbortSignal): Promise<SandboxResult> {
  if (signal?.aborted) return Promise.resolve({ outcome: 'timeout', exitCode: null, signal: null, stdout: '', stderr: '', wallMs: 0 });
  const [command, ...args] = sandboxCommand(language, limits);
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return new Promise((resolve, reject) => {
    let outcome: SandboxResult['outcome'] = 'exited';
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let programPid: number | undefined;
    let info = '';
    // Written by bwrap before the program starts, and not inherited by it.
    (child.stdio[4] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      info += chunk.toString();
      programPid ??= Number(/"child-pid"\s*:\s*(\d+)/.exec(info)?.[1]) || undefined;
    });
    // Killing the program (pid 1 inside) ends its namespace and lets bwrap exit on its own; bwrap
    // itself is killed only before the program exists or if it fails to exit.
    const stop = (why: SandboxResult['outcome']) => {
      if (outcome !== 'exited') return;
      outcome = why;
      if (programPid !== undefined && killed(programPid)) setTimeout(() => child.kill('SIGKILL'), 1000).unref();
      else child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), limits.wallMs);
    const onAbort = () => stop('timeout');
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.outputKb * 1024) return stop('output-limit');
      stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8').slice(0, STDERR_KEPT - stderr.length);
    });
    // A program may exit without reading its input, and bwrap closes the source pipe once read.
    for (const pipe of [child.stdin!, child.stdio[3] as NodeJS.WritableStream]) pipe.on('error', () => {});
    (child.stdio[3] as NodeJS.WritableStream).end(source);
    child.stdin!.end(stdin);

    child.on('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`cannot start the sandbox (${command}): ${error.message}`));
    });
    child.on('close', (exitCode, killedBy) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({
        outcome,
        exitCode,
        signal: killedBy,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr,
        wallMs: performance.now() - started,
      });
    });
  });
}

let availability: Promise<{ ok: boolean; reason?: string }> | undefined;

/** Whether sandboxed Python really runs here (bwrap present, namespaces allowed). Checked once. */
export function sandboxAvailable(): Promise<{ ok: boolean; reason?: string }> {
  availability ??= runInSandbox('python', 'print(6 * 7)', '', { wallMs: 10_000, cpuSeconds: 5, memoryMb: 256, processes: 16, outputKb: 64, diskMb: 1 })
    .then((run) =>
      run.outcome === 'exited' && run.exitCode === 0 && run.stdout.trim() === '42'
        ? { ok: true }
        : { ok: false, reason: `sandboxed python3 failed (${run.outcome}, exit ${run.exitCode}): ${run.stderr.trim() || run.stdout.trim()}` },
    )
    .catch((error: Error) => ({ ok: false, reason: `${error.message}; run infra/local/sandbox-setup.sh` }));
  return availability;
}
