import { DataFormatError, MocoRobustError } from '@moco-robust/core';

/** One regular file of a tar stream; read its bytes (`bytes()` or `chunks()`) before asking for the next entry. */
export interface TarEntry {
  name: string;
  size: number;
  /** The whole file. */
  bytes(): Promise<Uint8Array>;
  /** The file in pieces (for large members written to disk). */
  chunks(): AsyncGenerator<Uint8Array>;
}

/** Pulls exact byte counts out of a stream of chunks, tracking the offset for error messages. */
class ByteReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private start = 0;
  offset = 0;
  private readonly iterator: AsyncIterator<Uint8Array>;
  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly path: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /**
   * The next chunk of the source; a failing source (e.g. corrupt gzip) becomes a `DataFormatError` at the current
   * offset.
   */
  private async next(): Promise<IteratorResult<Uint8Array>> {
    try {
      return await this.iterator.next();
    } catch (error) {
      if (MocoRobustError.isInstance(error)) throw error;
      throw new DataFormatError({
        path: this.path,
        offset: this.offset,
        message: `the stream broke off after ${this.offset} bytes of tar (${(error as Error).message})`,
        cause: error,
      });
    }
  }

  /** Up to `max` bytes (fewer only at the end of the stream; empty at the end). */
  async some(max: number): Promise<Uint8Array> {
    while (this.start >= this.buffer.length) {
      const next = await this.next();
      if (next.done) return new Uint8Array(0);
      this.buffer = next.value;
      this.start = 0;
    }
    const out = this.buffer.subarray(this.start, this.start + max);
    this.start += out.length;
    this.offset += out.length;
    return out;
  }

  /** Exactly `n` bytes, or undefined when the stream ends first. */
  async exactly(n: number): Promise<Uint8Array | undefined> {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const piece = await this.some(n - done);
      if (piece.length === 0) return undefined;
      out.set(piece, done);
      done += piece.length;
    }
    return out;
  }
}

const text = (bytes: Uint8Array) => {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
};

function octal(field: Uint8Array, path: string, offset: number): number {
  if (field[0] & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const digits = text(field).trim();
  if (!/^[0-7]*$/.test(digits))
    throw new DataFormatError({
      path,
      offset,
      message: `not a tar archive (or corrupt): a header field holds ${JSON.stringify(digits)}, not an octal number`,
    });
  return digits ? parseInt(digits, 8) : 0;
}

/**
 * The regular files of a tar (ustar, GNU long names, pax paths) stream, in order, without writing
 * anything to disk. A truncated or malformed archive throws `DataFormatError` naming `path` and the
 * byte offset (in the uncompressed stream).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source, path);
  let longName: string | undefined;
  for (;;) {
    const headerOffset = reader.offset;
    const header = await reader.exactly(512);
    if (!header) {
      if (headerOffset === 0) throw new DataFormatError({ path, offset: 0, message: 'empty: not a tar archive' });
      return; // tolerate a missing end-of-archive marker after whole entries
    }
    if (header.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (sum !== octal(header.subarray(148, 156), path, headerOffset + 148))
      throw new DataFormatError({
        path,
        offset: headerOffset,
        message: 'not a tar archive (or corrupt): header checksum mismatch',
      });
    const size = octal(header.subarray(124, 136), path, headerOffset + 124);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(header.subarray(257, 263)).startsWith('ustar') ? text(header.subarray(345, 500)) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    longName = undefined;
    let remaining = size;
    const padding = (512 - (size % 512)) % 512;
    const dataOffset = reader.offset;
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      while (remaining > 0) {
        const piece = await reader.some(Math.min(remaining, 1 << 20));
        if (piece.length === 0)
          throw new DataFormatError({
            path,
            offset: reader.offset,
            message:
              `truncated inside '${name}': ${remaining} of its ` +
              `${size} bytes (from byte ${dataOffset}) are missing`,
          });
        remaining -= piece.length;
        yield piece;
      }
    };
    const bytes = async () => {
      const out = new Uint8Array(remaining);
      let at = 0;
      for await (const piece of chunks()) {
        out.set(piece, at);
        at += piece.length;
      }
      return out;
    };
    if (type === 'L' || type === 'x') {
      const data = await bytes();
      if (type === 'L') longName = text(data);
      else {
        const match = /\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
        if (match) longName = match[1];
      }
    } else if (type === '0' || type === '7') {
      yield { name, size, bytes, chunks };
    }
    for await (const piece of chunks()) void piece; // skip what the consumer did not read
    if (padding > 0 && !(await reader.exactly(padding))) return;
  }
}
