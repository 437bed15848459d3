import { Worker, type MessagePort } from 'node:worker_threads';

/**
 * Runs tasks on a few worker threads, each task under a hard deadline.
 *
 * Why threads: a deadline on the calling thread only stops waiting. A reward stuck in
 * synchronous work (a regular expression that backtracks, a runaway parse) would still hold
 * that thread, and with it every other sample of the batch. A worker past its deadline is
 * terminated, which stops any work, and a fresh one takes its place.
 *
 * The deadline counts from the moment a worker starts the task: time spent queued behind other
 * tasks, or waiting for a fresh worker to load, is not charged to it.
 *
 * The worker file answers with `serveTasks` (below).
 */
export class DeadlinePool<Task, Result> {
  private readonly slots: Slot<Task, Result>[] = [];
  private readonly queue: Job<Task, Result>[] = [];
  private nextId = 0;

  constructor(
    private readonly workerFile: string,
    private readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`pool size must be a positive integer, got ${size}`);
  }

  /** The task's result; rejects with `timed out after N ms` past the deadline, or with the task's own error. */
  run(task: Task, timeoutMs: number): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, timeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; tasks in flight are rejected. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.job?.reject(new Error('pool closed'));
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** Hands queued tasks to idle workers, and starts workers (up to the pool size) for the rest. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length > 0 && slot.ready && slot.job === undefined) this.start(slot, this.queue.shift()!);
    }
    // Workers still loading will take tasks when ready; start more only for the tasks beyond them.
    let starting = this.slots.filter((s) => !s.ready).length;
    while (starting < this.queue.length && this.slots.length < this.size) {
      this.startWorker();
      starting++;
    }
    // Only workers with something to do keep the process alive: an idle pool never holds it open.
    for (const slot of this.slots) {
      if (slot.job !== undefined || (!slot.ready && this.queue.length > 0)) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  private startWorker(): void {
    const worker = new Worker(this.workerFile);
    const slot: Slot<Task, Result> = { worker, ready: false };
    this.slots.push(slot);
    worker.on('message', (message: Reply) => {
      if (message.id === READY) {
        slot.ready = true;
        return this.dispatch();
      }
      const job = slot.job;
      if (job === undefined || message.id !== slot.jobId) return;
      this.finish(slot);
      if (message.ok) job.resolve(message.result as Result);
      else job.reject(new Error(message.error));
    });
    // A worker that crashes (or runs out of memory) fails its task and is replaced.
    const fail = (error: Error) => this.replace(slot, error);
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
  }

  private start(slot: Slot<Task, Result>, job: Job<Task, Result>): void {
    slot.job = job;
    slot.jobId = this.nextId++;
    slot.timer = setTimeout(() => this.replace(slot, new Error(`timed out after ${job.timeoutMs} ms`)), job.timeoutMs);
    slot.worker.postMessage({ id: slot.jobId, task: job.task } satisfies Request<Task>);
  }

  private finish(slot: Slot<Task, Result>): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    // Let the caller's continuation run before the next task is handed out.
    queueMicrotask(() => this.dispatch());
  }

  /** Terminates a worker (stuck, crashed or exited), fails its task, and lets a fresh one start. */
  private replace(slot: Slot<Task, Result>, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already replaced
    this.slots.splice(index, 1);
    // A worker that dies before it is ready fails the oldest waiting task instead: a worker file
    // that cannot load then fails every task, one per try, rather than restarting for ever.
    const job = slot.job ?? (slot.ready ? undefined : this.queue.shift());
    this.finish(slot);
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
    job?.reject(error);
  }
}

interface Job<Task, Result> {
  task: Task;
  timeoutMs: number;
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

interface Slot<Task, Result> {
  worker: Worker;
  ready: boolean;
  job?: Job<Task, Result>;
  jobId?: number;
  timer?: NodeJS.Timeout;
}

const READY = -1;
type Request<Task> = { id: number; task: Task };
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/**
 * The worker side: call once in a worker file. `handle` may be synchronous or return a promise;
 * a thrown error goes back as the task's rejection. The pool sends tasks only after `ready`.
 */
export function serveTasks<Task, Result>(port: MessagePort, handle: (task: Task) => Result | Promise<Result>): void {
  port.on('message', async ({ id, task }: Request<Task>) => {
    try {
      port.postMessage({ id, ok: true, result: await handle(task) } satisfies Reply);
    } catch (error) {
      port.postMessage({ id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies Reply);
    }
  });
  port.postMessage({ id: READY, ok: true, result: null } satisfies Reply);
}
