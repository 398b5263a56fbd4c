// Result files into the browser: read as text, parsed as JSON only (never evaluated), validated against the
// bench result schema; a file that does not validate is refused with the paths of its errors. Imported data
// is only ever rendered through Lit's escaping bindings.
import { parseResultFile, type ResultFile } from '../../bench/result-schema.ts';

/** A run shown on the Benchmarks page: this browser's, or an imported file. */
export interface LoadedRun {
  id: string;
  name: string;
  source: 'this browser' | 'imported';
  file: ResultFile;
}

export type ImportOutcome = { name: string; ok: true; run: LoadedRun } | { name: string; ok: false; errors: string[] };

/** Files larger than this are refused before reading (a result file is a few hundred KB). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

let counter = 0;

export function importResultText(name: string, text: string): ImportOutcome {
  const parsed = parseResultFile(text);
  if (!parsed.ok) return { name, ok: false, errors: parsed.errors };
  return { name, ok: true, run: { id: `run-${++counter}`, name, source: 'imported', file: parsed.file } };
}

export async function importResultFiles(files: Iterable<File>): Promise<ImportOutcome[]> {
  const out: ImportOutcome[] = [];
  for (const f of files) {
    if (f.size > MAX_IMPORT_BYTES) {
      out.push({ name: f.name, ok: false, errors: [`${f.size} bytes is over the ${MAX_IMPORT_BYTES}-byte limit for a result file`] });
      continue;
    }
    out.push(importResultText(f.name, await f.text()));
  }
  return out;
}

export function localRun(file: ResultFile): LoadedRun {
  return { id: `run-${++counter}`, name: 'this browser', source: 'this browser', file };
}
