// The named studies (`npm run bench -- --study NAME`) and the digests of whichever of them a result file holds.
import type { ResultFile, StudyDigest } from '../result-schema.ts';
import { comparable } from '../result-checks.ts';
import { decodeGeometry } from './decode-geometry.ts';
import { mlaDecode } from './mla-decode.ts';
import { moeStages } from './moe-stages.ts';
import { sparseScaling } from './sparse-scaling.ts';
import { layerStages, layerWaterfall } from './layer.ts';
import type { Study } from './study.ts';

export type { Study } from './study.ts';

export const STUDIES: readonly Study[] = [mlaDecode, sparseScaling, moeStages, layerStages, layerWaterfall, decodeGeometry];

export function digestStudies(file: ResultFile): StudyDigest[] {
  // Studies compare rows with each other: only rows that verified and have a time take part.
  const usable = { ...file, results: file.results.filter(comparable) };
  return STUDIES.map((s) => s.digest(usable)).filter((d): d is StudyDigest => d !== undefined);
}
