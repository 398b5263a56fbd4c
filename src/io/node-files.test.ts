// Writes that cannot leave a truncated file: the bytes go to a temp file beside the target, which is renamed
// over it only once complete. A write cut short (here a file-size limit, as a full disk would) leaves the old
// file whole and no temp file behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './node-files.ts';

const root = new URL('../..', import.meta.url).pathname;

describe('atomic writes (class 12)', () => {
  it('replace the file whole and leave no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const p = join(dir, 'r.json');
    writeFileSync(p, 'old');
    writeFileAtomic(p, 'new contents');
    expect(readFileSync(p, 'utf8')).toBe('new contents');
    expect(readdirSync(dir)).toEqual(['r.json']);
  });

  it('a write cut short by a file-size limit keeps the old file intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const p = join(dir, 'r.json');
    writeFileSync(p, 'old');
    // ulimit -f 8 (8 KiB) with SIGXFSZ ignored: the 64 KiB write fails with EFBIG part-way, as on a full disk.
    const script = `import { writeFileAtomic } from './src/io/node-files.ts'; try { writeFileAtomic(${JSON.stringify(p)}, 'x'.repeat(65536)); } catch (e) { console.log(e.message); }`;
    const out = execFileSync('bash', ['-c', `trap '' XFSZ; ulimit -f 8; exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/cannot write .*r\.json \(EFBIG\); nothing was written there/);
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['r.json']);
  });
});
