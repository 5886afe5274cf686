// Test support (not exported): the projection head of the engine tests.
import { projectionHead } from '@moco-robust/models';
import type { ProjectionHeadFactory } from '../moco-task';

/** The models package's projection head (linear or MLP), seeded. */
export const tinyHead: ProjectionHeadFactory = (options) => projectionHead(options);
