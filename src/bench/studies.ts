// Named studies: fixed lists of (kernel, shape) that answer one question, run on request
// (`npm run bench -- --study NAME`) because they are too long for the default suite on CPU emulation.
import type { AnyKernel, Config } from '../kernels/contract.ts';
import { MLA_DECODE_SWEEP } from '../kernels/mla/mla-config.ts';
import type { SuiteJob } from './suite.ts';

export interface StudyEntry {
  kernel: string;
  shape: { name: string; config: Partial<Config> };
}

export interface Study {
  id: string;
  question: string;
  entries: StudyEntry[];
}

export const STUDIES: Study[] = [
  {
    id: 'mla-decode',
    question: 'Decode at S = 1K..32K: MHA vs GQA (flash decoding) vs naive vs absorbed MLA at DeepSeek-V3 head shapes — time and KV bytes read per step',
    entries: MLA_DECODE_SWEEP,
  },
];

export function studyJobs(study: Study, registry: readonly AnyKernel[]): SuiteJob[] {
  return study.entries.map((e) => {
    const def = registry.find((k) => k.id === e.kernel);
    if (!def) throw new Error(`study ${study.id} names an unregistered kernel ${e.kernel}`);
    return { def, shape: e.shape };
  });
}
