// Result files out of the browser: the bench JSON (the same schema the CLI writes, so the CLI, other
// browsers and other GPUs can read it back) and a flat CSV for spreadsheets. Non-finite numbers are written
// as empty cells, never as "NaN".
import type { ResultFile } from '../../bench/result-schema.ts';

export function resultJson(file: ResultFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

export const CSV_COLUMNS = [
  'kernel',
  'family',
  'shape',
  'config',
  'median_ms',
  'p10_ms',
  'p90_ms',
  'min_ms',
  'max_ms',
  'gbps',
  'gflops',
  'copy_fraction',
  'fma_fraction',
  'method',
  'verified',
  'worst_rel_l2',
  'outputs_finite',
  'allocated_bytes',
  'adapter',
  'runtime',
] as const;

function cell(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null || v === undefined) return '';
  let s = String(v);
  // A cell starting with = + - @ is a formula to a spreadsheet: keep it text.
  if (/^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultCsv(file: ResultFile): string {
  const a = file.environment.adapter;
  const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unknown adapter';
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of file.results) {
    const rel = r.verification.outputs.map((o) => o.relL2).filter((x): x is number => x !== null);
    const row = [
      r.kernel,
      r.family,
      r.shape,
      JSON.stringify(r.config),
      r.medianMs,
      r.p10Ms,
      r.p90Ms,
      r.minMs,
      r.maxMs,
      r.gbps,
      r.gflops,
      r.copyFraction,
      r.fmaFraction,
      r.method,
      r.verification.ok,
      rel.length ? Math.max(...rel) : null,
      r.outputsFinite,
      r.allocatedBytes,
      adapter,
      file.environment.runtime,
    ];
    lines.push(row.map(cell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** "kernel-lab-swiftshader-2026-11-23T01-02-03" */
export function resultFileName(file: ResultFile): string {
  const a = file.environment.adapter;
  const who = (a.architecture || a.vendor || 'gpu').toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `kernel-lab-${who}-${file.createdAt.slice(0, 19).replace(/[:]/g, '-')}`;
}

/** Save text through a download link (a blob: URL, revoked after the click). */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
