import { z } from 'zod';

/** Small named numbers (loss, reward, pass@1...). Non-finite values are rejected, not stored. */
export const MetricsSchema = z.record(z.string(), z.number().finite());
export type Metrics = z.infer<typeof MetricsSchema>;
