// File access for the Node CLIs, bounded and atomic. Reading: only regular files (a FIFO would block, a
// device like /dev/zero never ends, a directory is not data), refused from fstat before a byte is read;
// the size `stat` reports is only an upper bound for allocation, and the bytes actually read decide (a file
// that is shorter or longer than it said is refused). Writing: a temp file in the target's directory,
// then rename, so a full disk or a crash never leaves a truncated result; the target is checked before
// any expensive work starts.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { printable } from './printable.ts';
import { checkDataSize, decodeTensors, headerLength, parseHeader, SafetensorsError, type Safetensors } from './safetensors.ts';

export class FileError extends Error {
  override name = 'FileError';
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** An open regular file: `size` is what fstat said (an upper bound for allocation, nothing more). */
interface OpenFile {
  fd: number;
  size: number;
  name: string;
}

function openRegular(path: string, make: (msg: string) => Error): OpenFile {
  const name = printable(path);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw make(`${name}: cannot read (${errCode(e)})`);
  }
  if (!st.isFile()) throw make(`${name}: is ${kind(st)}, not a regular file`);
  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw make(`${name}: cannot read (${errCode(e)})`);
  }
  const fst = fstatSync(fd);
  if (!fst.isFile()) {
    closeSync(fd);
    throw make(`${name}: is ${kind(fst)}, not a regular file`);
  }
  return { fd, size: fst.size, name };
}

/** Read up to `want` bytes at `pos` into a fresh buffer; fewer come back only at the end of the file. */
function readAt(f: OpenFile, pos: number, want: number): Uint8Array {
  const buf = new Uint8Array(want);
  let got = 0;
  while (got < want) {
    const n = readSync(f.fd, buf, got, want - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got === want ? buf : buf.subarray(0, got);
}

/** True when the file has a byte at `pos` (it is longer than the size we expect). */
function hasByteAt(f: OpenFile, pos: number): boolean {
  return readSync(f.fd, new Uint8Array(1), 0, 1, pos) > 0;
}

/** A whole regular file of at most `maxBytes` (text results, small inputs). */
export function readRegularFile(path: string, maxBytes: number): Uint8Array {
  const f = openRegular(path, (m) => new FileError(m));
  try {
    if (f.size > maxBytes) throw new FileError(`${f.name}: ${f.size} bytes is over the ${maxBytes}-byte limit`);
    const bytes = readAt(f, 0, f.size);
    if (bytes.byteLength < f.size) throw new FileError(`${f.name}: shrank while being read (${bytes.byteLength} of ${f.size} bytes)`);
    if (hasByteAt(f, f.size)) throw new FileError(`${f.name}: grew while being read (more than the ${f.size} bytes it reported)`);
    return bytes;
  } finally {
    closeSync(f.fd);
  }
}

/**
 * Read and check one safetensors file in three bounded steps: the 8-byte prefix, the header (refused before
 * its bytes are allocated if it is longer than the cap or the file), then exactly the data section the
 * header describes (refused before allocation if the file cannot hold it or holds more).
 */
export function readSafetensorsFile(path: string, maxBytes: number): Safetensors {
  const f = openRegular(path, (m) => new SafetensorsError(m));
  const where = f.name;
  try {
    if (f.size > maxBytes) throw new SafetensorsError(`${where}: ${f.size} bytes is over the ${maxBytes}-byte limit for a golden file`);
    const n = headerLength(readAt(f, 0, 8), where, f.size);
    const headerBytes = readAt(f, 8, n);
    if (headerBytes.byteLength < n) throw new SafetensorsError(`${where}: header length ${n} runs past the end of the file (truncated?)`);
    const header = parseHeader(headerBytes, where);
    const start = 8 + n;
    // The size check comes before the allocation: a forged header cannot make us allocate past the file.
    checkDataSize(header, Math.max(0, f.size - start), where);
    const data = readAt(f, start, header.dataBytes);
    if (data.byteLength < header.dataBytes) checkDataSize(header, data.byteLength, where);
    if (hasByteAt(f, start + header.dataBytes)) throw new SafetensorsError(`${where}: trailing bytes after the last tensor (the data section must hold exactly its tensors)`);
    return decodeTensors(header, data, where);
  } finally {
    closeSync(f.fd);
  }
}

/**
 * Refuse an output path now rather than after a long run: its directory must exist and take a new file
 * (tested by creating and removing one), and the path itself must be absent or a regular file (writing over
 * /dev/full or a directory by rename would replace it, or fail).
 */
export function checkOutputPath(path: string, flag: string): void {
  const name = printable(path);
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw new FileError(`${flag}: cannot write ${name} (${errCode(e)})`);
  }
  if (st && !st.isFile()) throw new FileError(`${flag}: ${name} is ${kind(st)}, not a file that can be written`);
  const dir = dirname(path);
  let dst: Stats;
  try {
    dst = statSync(dir);
  } catch (e) {
    throw new FileError(`${flag}: cannot write ${name}: its directory ${printable(dir)} ${errCode(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${errCode(e)})`}`);
  }
  if (!dst.isDirectory()) throw new FileError(`${flag}: cannot write ${name}: ${printable(dir)} is not a directory`);
  const probe = tempName(path);
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644));
    unlinkSync(probe);
  } catch (e) {
    throw new FileError(`${flag}: cannot write ${name}: cannot create a file in ${printable(dir)} (${errCode(e)})`);
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/** Write `data` to `path` atomically: a temp file beside it, flushed, then renamed over it. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const tmp = tempName(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone (the rename happened or the open failed)
    }
    throw new FileError(`cannot write ${printable(path)} (${errCode(e)}); nothing was written there`);
  }
}
