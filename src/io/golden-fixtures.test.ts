// The golden samples in test/fixtures/golden-samples/ were written by an independent float64 implementation;
// they must stay byte-for-byte what it wrote. Their SHA-256 digests are pinned in SHA256SUMS beside them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, goldenManifest, goldenSamples } from '../../test/golden-fixtures.ts';

describe('golden samples in the repository', () => {
  const manifest = goldenManifest();

  it('are exactly the files SHA256SUMS lists', () => {
    const onDisk = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors')).sort();
    expect(onDisk).toEqual([...manifest.keys()].sort());
    expect(onDisk.length).toBeGreaterThanOrEqual(10);
  });

  for (const [file, digest] of manifest) {
    it(`${file} is byte-identical to the one written by the independent implementation`, () => {
      expect(createHash('sha256').update(readFileSync(GOLDEN_DIR + file)).digest('hex')).toBe(digest);
    });
  }

  it('each names its op in __metadata__.kernel, matching the file-name prefix', () => {
    for (const s of goldenSamples()) expect(s.file.startsWith(`${s.op}-`), s.file).toBe(true);
  });
});
