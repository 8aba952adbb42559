import { z } from 'zod';
import { TimeMs } from '../primitives.js';

/**
 * Someone asked for a projection to be rebuilt (its rows and checkpoint dropped, the log projected
 * again from position 0), in `projection-<name>`: who (also the envelope's principal) and when.
 */
export const ProjectionRebuildRequested = z.object({
  projection: z.string().min(1),
  by: z.string().min(1),
  at: TimeMs,
});
export type ProjectionRebuildRequested = z.infer<typeof ProjectionRebuildRequested>;

export const PROJECTION_FACTS = { projectionRebuildRequested: ProjectionRebuildRequested } as const;
