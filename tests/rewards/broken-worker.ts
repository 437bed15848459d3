// The worker of deadline-pool.test.ts that cannot load, as one with a missing dependency.
throw new Error('cannot load the rewards');
