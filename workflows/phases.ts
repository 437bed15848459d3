import type { PhaseKind } from '../schemas/pipeline-spec';

/** Phase kinds this build has workflows for; the client refuses a spec that needs others. */
export const SUPPORTED_PHASES: readonly PhaseKind[] = [];
