import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed keys for the attributes registered in schemas/search-attributes.ts. */
export const R1Pipeline = defineSearchAttributeKey('R1Pipeline', SearchAttributeType.KEYWORD);
export const R1Phase = defineSearchAttributeKey('R1Phase', SearchAttributeType.KEYWORD);
export const R1Step = defineSearchAttributeKey('R1Step', SearchAttributeType.INT);
export const R1Status = defineSearchAttributeKey('R1Status', SearchAttributeType.KEYWORD);

export type PipelineStatus = 'running' | 'paused' | 'completed' | 'failed';
