/**
 * Where an activity's time goes: engine compute, S3 I/O, reward verification. Reported with its
 * metrics so that `npm run bench:pipeline` can split a step's wall time into work and overhead.
 */
export class Timings {
  readonly ms = { engine: 0, s3: 0, rewards: 0 };

  async time<T>(kind: keyof Timings['ms'], work: () => Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      return await work();
    } finally {
      this.ms[kind] += performance.now() - began;
    }
  }

  /** As metrics: `<prefix>EngineMs`, `<prefix>S3Ms`, `<prefix>RewardsMs`. */
  metrics(prefix: string): Record<string, number> {
    return { [`${prefix}EngineMs`]: this.ms.engine, [`${prefix}S3Ms`]: this.ms.s3, [`${prefix}RewardsMs`]: this.ms.rewards };
  }
}
