import { parentPort } from 'node:worker_threads';
import { runCpuReward } from './cpu-rewards';
import { serveTasks } from './deadline-pool';
import { warmUpCas } from './math-equivalence';

// A fresh worker loads the math CAS before taking tasks, so no reward's deadline pays for it.
warmUpCas();
serveTasks(parentPort!, runCpuReward);
