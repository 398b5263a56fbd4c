// Launch geometry of flash_decode's K/V-streaming pass (split_main) at long contexts: plans only, nothing is
// allocated. From S = 8K keys on it must launch >= 512 workgroups or stream <= 64 KiB of K/V per workgroup,
// and the workgroups must cover every (row group, split) unit exactly once.
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../contract.ts';
import type { AttentionConfig } from './attention-config.ts';
import { flashDecode, flashDecodePlan, flashDecodeSplits, type FlashDecodePlan } from './flash-decode.ts';
import { fakeCaps } from '../../../test/device-caps.ts';

const caps = fakeCaps();
const config = (c: Partial<AttentionConfig>) => withDefaults(flashDecode, c);
const fills = (p: FlashDecodePlan) => p.workgroups >= 512 || p.bytesPerWorkgroup <= 64 * 1024;

function plan(c: AttentionConfig): FlashDecodePlan {
  const p = flashDecodePlan(c, caps);
  if (!('wg' in p)) throw new Error(p.message);
  return p;
}

const SHAPES = {
  'Llama GQA 32/8 D 128': { Hq: 32, Hkv: 8, D: 128 },
  'MHA 32 heads D 128': { Hq: 32, Hkv: 32, D: 128 },
  'MQA 8 heads D 64': { Hq: 8, Hkv: 1, D: 64 },
  'GQA 16/2 D 256': { Hq: 16, Hkv: 2, D: 256 },
  'GQA 64/8 D 128 (V3-sized heads)': { Hq: 64, Hkv: 8, D: 128 },
};

describe('flash_decode split_main geometry at S >= 8K', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    for (const T of [1, 4]) {
      it(`${name}, T=${T}: >= 512 workgroups or <= 64 KiB of K/V each, at S = 8K..128K`, () => {
        for (const S of [8192, 16384, 32768, 131072]) {
          for (const dtype of ['f32', 'f16'] as const) {
            const c = config({ T, S, dtype, ...shape });
            const p = plan(c);
            const at = `S=${S} ${dtype}: ${p.workgroups} workgroups of ${p.bytesPerWorkgroup} B`;
            expect(fills(p), at).toBe(true);
            // The bytes are what the workgroup's 4 units stream: chunk keys of K and V of each unit's heads.
            const heads = p.packed ? Math.ceil(4 / (T * (c.Hq / c.Hkv))) : 1;
            expect(p.bytesPerWorkgroup, at).toBe(4 * p.chunk * 2 * c.D * (dtype === 'f16' ? 2 : 4) * heads);
            // Every (row group, split) unit has a slot: 4 per workgroup, the last workgroup possibly part empty.
            expect(p.workgroups * 4, at).toBeGreaterThanOrEqual(p.groups * p.splits);
            expect((p.workgroups - 1) * 4, at).toBeLessThan(p.groups * p.splits);
          }
        }
      });
    }
  }

  it('the Llama shape at S = 8K and 32K: 512 workgroups of 16 invocations', () => {
    for (const S of [8192, 32768]) {
      const p = plan(config({ T: 1, S, Hq: 32, Hkv: 8, D: 128 }));
      expect([p.workgroups, p.wg], `S=${S}`).toEqual([512, 16]);
    }
    expect(flashDecodeSplits(config({ T: 1, S: 8192, Hq: 32, Hkv: 8, D: 128 }))).toEqual({ splits: 256, chunk: 32 });
  });

  it('below 8K the rule does not apply: splits of >= 256 keys keep the partials small', () => {
    const p = plan(config({ T: 1, S: 4096, Hq: 32, Hkv: 8, D: 128 }));
    expect(p.chunk).toBeGreaterThanOrEqual(256);
    expect(fills(p)).toBe(false);
  });
});
