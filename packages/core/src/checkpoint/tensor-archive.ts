import { DataFormatError } from '../errors/errors';

/** One named tensor in a `TensorArchive`. */
export interface TensorArchiveEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** Header of a tensor archive (`<name>.json` beside `<name>.bin`). */
export interface TensorArchiveSpec {
  format: 'moco-robust-tensors/v1';
  tensors: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32'; byteOffset: number; length: number }>;
}

/** Packs named tensors (optimizer slots, queues) into a JSON header and one little-endian binary blob. */
export function encodeTensorArchive(entries: TensorArchiveEntry[]): { spec: TensorArchiveSpec; data: Uint8Array } {
  let byteLength = 0;
  const tensors = entries.map((e) => {
    const spec = { name: e.name, shape: [...e.shape], dtype: e.dtype, byteOffset: byteLength, length: e.data.length };
    byteLength += e.data.length * 4;
    return spec;
  });
  const data = new Uint8Array(byteLength);
  entries.forEach((e, i) =>
    data.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.length * 4), tensors[i].byteOffset),
  );
  return { spec: { format: 'moco-robust-tensors/v1', tensors }, data };
}

/** Unpacks {@link encodeTensorArchive}'s output; `path` names the file in errors. */
export function decodeTensorArchive(
  spec: TensorArchiveSpec,
  data: Uint8Array,
  path = 'tensor archive',
): TensorArchiveEntry[] {
  if (spec?.format !== 'moco-robust-tensors/v1' || !Array.isArray(spec.tensors)) {
    throw new DataFormatError({
      path,
      message: `expected a 'moco-robust-tensors/v1' header, got ${JSON.stringify(spec)?.slice(0, 80)}`,
    });
  }
  return spec.tensors.map((t) => {
    const end = t.byteOffset + t.length * 4;
    if (end > data.byteLength)
      throw new DataFormatError({
        path,
        offset: data.byteLength,
        message: `tensor '${t.name}' needs bytes up to ${end}, the file ends early`,
      });
    const bytes = data.slice(t.byteOffset, end);
    const values = t.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return { name: t.name, shape: t.shape, dtype: t.dtype, data: values };
  });
}
