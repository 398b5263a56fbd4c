// The peers study's table: per workload each side's median ms, whether its output matched float64, and
// how many times faster this project is than the faster verified peer.
import type { StudyDigest } from '../result-schema.ts';
import { sig } from '../studies/study.ts';
import type { WorkloadResult } from './measure.ts';

const SIDES = ['tfjs-webgpu', 'onnxruntime-web', 'this project'] as const;

export function peersDigest(results: readonly WorkloadResult[], adapter: string): StudyDigest {
  const rows = results.map((w) => {
    const by = (name: string) => w.runs.find((r) => r.peer === name);
    const ms = (name: string) => {
      const r = by(name);
      return r?.timing && r.verified.ok ? sig(r.timing.medianMs) : null;
    };
    const ours = ms('this project');
    const peerMs = [ms('tfjs-webgpu'), ms('onnxruntime-web')].filter((x): x is number => x !== null);
    const best = peerMs.length ? Math.min(...peerMs) : null;
    const verdicts = SIDES.map((s) => {
      const r = by(s);
      if (!r) return `${s}: -`;
      if (r.error) return `${s}: not run (${r.error.split('\n')[0]!.slice(0, 80)})`;
      return `${s}: ${r.verified.ok ? `ok (${r.verified.worst.toExponential(0)})` : `MISMATCH ${r.verified.detail ?? ''}`}`;
    });
    return [w.title, ...SIDES.map((s) => ms(s)), ours !== null && best !== null ? sig(best / ours) : null, verdicts.join('; ')];
  });
  const methods = [...new Map(results.flatMap((w) => w.runs).map((r) => [r.peer, `${r.peer}${r.version ? ` ${r.version}` : ''}: ${r.method}`])).values()];
  return {
    id: 'peers',
    title: `This project against the WebGPU runtimes people use, same adapter, one run (${adapter})`,
    columns: ['workload', ...SIDES.map((s) => `${s} ms`), 'best peer / this', 'verified against float64'],
    rows,
    notes: [
      ...methods,
      'Each side gets the same inputs, in the layout it prefers (heads-major; K pre-transposed for a plain MatMul), outside the timed region; a median counts only when that side matched the float64 reference.',
      '"best peer / this" > 1 means this project is that many times faster than the faster verified peer.',
    ],
  };
}
