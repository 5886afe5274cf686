import { DataFormatError, InvalidArgumentError } from '@moco-robust/core';

/** Element types of the `.npy` files this project reads and writes (little-endian). */
export type NpyDtype = 'uint8' | 'int32' | 'int64';

/** A parsed `.npy` header: element type, C-order shape and where the data starts. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element (magic + version + length field + header text). */
  dataOffset: number;
  /** Bytes per element. */
  itemSize: number;
}

/** An array read from `.npy`; int64 data is returned as Int32Array (every value must fit). */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Uint8Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCRIPTORS: Record<string, NpyDtype> = { '|u1': 'uint8', '<u1': 'uint8', '<i4': 'int32', '<i8': 'int64' };
const ITEM_SIZES: Record<NpyDtype, number> = { uint8: 1, int32: 4, int64: 8 };
const DESCRIPTOR_OF: Record<NpyDtype, string> = { uint8: '|u1', int32: '<i4', int64: '<i8' };

/** Number of elements of a shape (1 for a scalar). */
export function npyElementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Parses the header of a `.npy` file (format versions 1.0, 2.0 and 3.0) from its first bytes
 * (`bytes` may hold just the beginning of the file); `path` names the file in errors. Only
 * C-order uint8, little-endian int32 and int64 arrays are accepted.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const fail = (message: string, offset: number): never => {
    throw new DataFormatError({ path, offset, message });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    fail('not a .npy file: the magic string \\x93NUMPY is missing', 0);
  const major = bytes[6];
  if (major < 1 || major > 3)
    fail(`unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`, 6);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated .npy header', bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (bytes.length < dataOffset)
    fail(
      `truncated .npy header: it declares ${headerLength} bytes of ` +
        `header text, the file has ${bytes.length - 8 - lengthBytes}`,
      bytes.length,
    );
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataOffset));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(
      `malformed .npy header ${JSON.stringify(text.trim())}: expected 'descr', 'fortran_order' and 'shape'`,
      8 + lengthBytes,
    );
  }
  const dtype = DESCRIPTORS[descr!];
  if (dtype === undefined)
    fail(`unsupported element type '${descr}' (expected '|u1', '<i4' or '<i8')`, 8 + lengthBytes);
  if (fortran === 'True')
    fail('Fortran-order arrays are not supported (expected fortran_order False)', 8 + lengthBytes);
  const parts = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  if (shape.some((d) => !Number.isSafeInteger(d)))
    fail(`malformed shape (${shapeText}) in the .npy header`, 8 + lengthBytes);
  return { dtype, shape, dataOffset, itemSize: ITEM_SIZES[dtype] };
}

/**
 * Decodes `count` elements of `dtype` from little-endian bytes: uint8 as a Uint8Array view, int32
 * and int64 as an Int32Array (an int64 outside the int32 range throws `DataFormatError` at `offset`).
 */
export function decodeNpyData(
  bytes: Uint8Array,
  dtype: NpyDtype,
  count: number,
  path: string,
  offset = 0,
): Uint8Array | Int32Array {
  if (dtype === 'uint8') return bytes.subarray(0, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(count);
  if (dtype === 'int32') {
    for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
    return out;
  }
  for (let i = 0; i < count; i++) {
    const value = view.getBigInt64(i * 8, true);
    if (value < -2147483648n || value > 2147483647n) {
      throw new DataFormatError({
        path,
        offset: offset + i * 8,
        message: `int64 element ${i} (${value}) does not fit in int32`,
      });
    }
    out[i] = Number(value);
  }
  return out;
}

/** Reads a whole `.npy` file held in memory; a file shorter than its header declares throws `DataFormatError`. */
export function readNpy(bytes: Uint8Array, path = '<npy bytes>'): NpyArray {
  const header = parseNpyHeader(bytes, path);
  const count = npyElementCount(header.shape);
  const needed = header.dataOffset + count * header.itemSize;
  if (bytes.length < needed) {
    throw new DataFormatError({
      path,
      offset: bytes.length,
      message:
        `truncated: shape (${header.shape.join(', ')}) of ${header.dtype} ` +
        `needs ${needed} bytes, the file has ${bytes.length}`,
    });
  }
  const data = decodeNpyData(bytes.subarray(header.dataOffset, needed), header.dtype, count, path, header.dataOffset);
  return { dtype: header.dtype, shape: header.shape, data };
}

/** The `.npy` version 1.0 header (magic to newline, padded to a multiple of 64 bytes) for a C-order array. */
export function npyHeaderBytes(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  if (!(dtype in ITEM_SIZES))
    throw new InvalidArgumentError({ argument: 'dtype', expected: "'uint8', 'int32' or 'int64'", received: dtype });
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new InvalidArgumentError({ argument: 'shape', expected: 'non-negative integers', received: shape });
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let text = `{'descr': '${DESCRIPTOR_OF[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = Math.ceil((10 + text.length + 1) / 64) * 64;
  text = `${text.padEnd(total - 10 - 1, ' ')}\n`;
  if (text.length > 65535)
    throw new InvalidArgumentError({
      argument: 'shape',
      expected: 'a shape whose header fits a version 1.0 .npy file',
      received: shape,
    });
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = text.length & 0xff;
  out[9] = text.length >> 8;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/**
 * Encodes `data` (uint8 bytes, or integers stored as int32 / int64) as a complete `.npy` file (version 1.0, C order).
 */
export function writeNpy(array: { dtype: NpyDtype; shape: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const { dtype, shape, data } = array;
  const count = npyElementCount(shape);
  if (data.length !== count)
    throw new InvalidArgumentError({
      argument: 'data',
      expected: `${count} elements for shape (${shape.join(', ')})`,
      received: `${data.length} elements`,
    });
  const header = npyHeaderBytes(dtype, shape);
  const out = new Uint8Array(header.length + count * ITEM_SIZES[dtype]);
  out.set(header, 0);
  if (dtype === 'uint8' && data instanceof Uint8Array) {
    out.set(data, header.length);
    return out;
  }
  const view = new DataView(out.buffer, header.length);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (dtype === 'uint8') out[header.length + i] = v;
    else if (dtype === 'int32') view.setInt32(i * 4, v, true);
    else view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true);
  }
  return out;
}
