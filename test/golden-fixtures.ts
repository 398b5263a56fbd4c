// The golden samples kept in this repository (test/fixtures/golden-samples/): where they are, which op each
// file states, and a check that a test ran every file it claims. Reading the folder throws when it is
// missing or holds no case of the op asked for, so a golden test can never pass by finding nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../src/io/safetensors.ts';

export const GOLDEN_DIR = fileURLToPath(new URL('./fixtures/golden-samples/', import.meta.url));

/** `SHA256SUMS` beside the samples: file name -> hex digest (the format `sha256sum -c` reads). */
export function goldenManifest(): Map<string, string> {
  const lines = readFileSync(GOLDEN_DIR + 'SHA256SUMS', 'utf8').split('\n').filter((l) => l.trim() !== '');
  return new Map(lines.map((l) => {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(l);
    if (!m) throw new Error(`SHA256SUMS: malformed line "${l}"`);
    return [m[2]!, m[1]!];
  }));
}

/** Every `.safetensors` sample with the op its metadata names (`__metadata__.kernel`). */
export function goldenSamples(): { file: string; path: string; op: string }[] {
  const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.safetensors')).sort();
  if (files.length === 0) throw new Error(`no golden samples in ${GOLDEN_DIR}`);
  return files.map((file) => {
    const op = readSafetensors(readFileSync(GOLDEN_DIR + file), file).metadata.kernel;
    if (!op) throw new Error(`${file}: no "kernel" in __metadata__`);
    return { file, path: GOLDEN_DIR + file, op };
  });
}

/** The samples of one op; throws when there is none, so a test that claims an op has at least one case. */
export function goldenFilesFor(op: string): string[] {
  const files = goldenSamples().filter((s) => s.op === op).map((s) => s.file);
  if (files.length === 0) throw new Error(`no golden sample of op "${op}" in ${GOLDEN_DIR}`);
  return files;
}

/**
 * Records which files a suite's cases actually ran to the end; `missing()` lists those that did not. A
 * suite ends with a case asserting `missing()` is empty, so a filter or an early return cannot drop a
 * file unnoticed.
 */
export function caseTally(files: readonly string[]) {
  const ran = new Set<string>();
  return {
    ran: (file: string) => void ran.add(file),
    missing: () => files.filter((f) => !ran.has(f)),
  };
}
