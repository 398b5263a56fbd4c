// The named studies (`npm run bench -- --study NAME`) and the digests of whichever of them a result file holds.
import type { ResultFile, StudyDigest } from '../result-schema.ts';
import { mlaDecode } from './mla-decode.ts';
import { moeStages } from './moe-stages.ts';
import { sparseScaling } from './sparse-scaling.ts';
import type { Study } from './study.ts';

export type { Study } from './study.ts';

export const STUDIES: readonly Study[] = [mlaDecode, sparseScaling, moeStages];

export function digestStudies(file: ResultFile): StudyDigest[] {
  return STUDIES.map((s) => s.digest(file)).filter((d): d is StudyDigest => d !== undefined);
}
