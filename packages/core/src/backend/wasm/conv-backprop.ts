import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;
export type Backend = tf.KernelBackend & { disposeData(dataId: object): void };

/** Runs the backend's own kernel `name` (looked up in tfjs's registry) on tensor infos. */
export function runner(backend: Backend, backendName: string) {
  const created: TensorInfo[] = [];
  const run = (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo => {
    const kernel = tf.getKernel(name, backendName);
    if (!kernel)
      throw new Error(
        `moco-robust's ${backendName} training kernels need the '${name}' kernel, which the backend lacks`,
      );
    const out = kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    created.push(out);
    return out;
  };
  /** A float32 tensor of `values` on the backend, freed with the intermediates. */
  const adopt = (values: Float32Array, shape: number[]): TensorInfo => {
    const out = { dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' as const };
    created.push(out);
    return out;
  };
  /** Frees every intermediate except `keep`. */
  const release = (keep: TensorInfo) => {
    for (const t of created) if (t !== keep) backend.disposeData(t.dataId);
  };
  return { run, adopt, release };
}

/** tfjs's convolution geometry for the attrs of a Conv2D gradient kernel (NHWC). */
function geometry(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap) {
  const strides = attrs.strides as number | [number, number];
  const pad = attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  return info;
}

/**
 * `Conv2DBackpropFilter` from the backend's forward convolution: with the input channels as the
 * batch and the images as channels, `dW = conv(transpose(x_pad), transpose(dy), dilation = stride)`.
 */
export function conv2dBackpropFilterFromConv(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = attrs.filterShape as number[];
    if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter: only NHWC is supported');
    const info = geometry(x.shape, filterShape, attrs);
    const { run, release } = runner(backend as Backend, backendName);
    const [kh, kw] = filterShape;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const needH = (info.outHeight - 1) * info.strideHeight + kh;
    const needW = (info.outWidth - 1) * info.strideWidth + kw;
    const bottom = Math.max(0, needH - x.shape[1] - top);
    const right = Math.max(0, needW - x.shape[2] - left);
    let padded = x;
    if (top || bottom || left || right)
      padded = run(
        'PadV2',
        { x },
        {
          paddings: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
    const channelsAsBatch = run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] }); // [Ci, Hp, Wp, N]
    const gradientAsFilter = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho, Wo, N, Co]
    const correlation = run(
      'Conv2D',
      { x: channelsAsBatch, filter: gradientAsFilter },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
        dimRoundingMode: undefined,
      },
    ); // [Ci, ≥kh, ≥kw, Co]
    let cropped = correlation;
    if (correlation.shape[1] !== kh || correlation.shape[2] !== kw)
      cropped = run('Slice', { x: correlation }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] });
    const result = run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }); // [kh, kw, Ci, Co]
    release(result);
    return result;
  };
}

/**
 * The taps of one stride phase of a filter, rotated by 180° and with its channel axes swapped:
 * `out[mh, mw, o, c] = w[rh + (Mh-1-mh)·sh, rw + (Mw-1-mw)·sw, c, o]` (one pass over the weights —
 * wasm's `Reverse` kernel alone took ≈100 ms on a 3×3×512×512 filter).
 */
function phaseFilter(w: Float32Array, [kh, kw, ci, co]: number[], [sh, sw]: number[], [rh, rw]: number[]) {
  const mh = Math.max(0, Math.ceil((kh - rh) / sh));
  const mw = Math.max(0, Math.ceil((kw - rw) / sw));
  const out = new Float32Array(mh * mw * co * ci);
  for (let a = 0; a < mh; a++) {
    for (let b = 0; b < mw; b++) {
      const source = ((rh + (mh - 1 - a) * sh) * kw + (rw + (mw - 1 - b) * sw)) * ci * co;
      const target = (a * mw + b) * co * ci;
      for (let c = 0; c < ci; c++) {
        const row = source + c * co;
        for (let o = 0; o < co; o++) out[target + o * ci + c] = w[row + o];
      }
    }
  }
  return { values: out, mh, mw };
}

/** One spatial axis of the input gradient's phase decomposition (see {@link conv2dBackpropInputFromConv}). */
function axisPlan(size: number, padBefore: number, stride: number, outSize: number) {
  const first = Math.floor(padBefore / stride); // u₀: the first phase row that lands inside the input
  const last = Math.floor((padBefore + size - 1) / stride);
  return { first, count: last - first + 1, back: last + 1 - outSize, offset: padBefore - first * stride };
}

/**
 * `Conv2DBackpropInput` from the backend's forward convolution, without multiplying by the zeros a
 * stride inserts. With `t = i + pad`, input row `i` receives `dy[u - m] · w[ρ + m·s]` where
 * `u = ⌊t/s⌋`, `ρ = t mod s`: for each of the `s_h·s_w` phases `ρ` that is a stride-1 correlation of
 * `dy` with that phase's taps (rotated, channel axes swapped) — together the forward convolution's
 * multiply-adds — and the phases interleave into the input gradient. Stride 1 is one phase.
 */
export function conv2dBackpropInputFromConv(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = attrs.inputShape as number[];
    if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput: only NHWC is supported');
    const info = geometry(inputShape, filter.shape, attrs);
    const kernelBackend = backend as Backend;
    const { run, adopt, release } = runner(kernelBackend, backendName);
    const [n, outH, outW, co] = dy.shape;
    const ci = inputShape[3];
    const strides = [info.strideHeight, info.strideWidth];
    const rows = axisPlan(inputShape[1], info.padInfo.top, strides[0], outH);
    const cols = axisPlan(inputShape[2], info.padInfo.left, strides[1], outW);
    const weights = kernelBackend.readSync(filter.dataId) as Float32Array;
    const phase = (rh: number, rw: number): TensorInfo => {
      const { values, mh, mw } = phaseFilter(weights, filter.shape, strides, [rh, rw]);
      if (mh === 0 || mw === 0)
        return adopt(new Float32Array(n * rows.count * cols.count * ci), [n, rows.count, cols.count, ci]);
      // correlate dy, padded by (M-1-u₀) before and `back` after, with the phase's taps
      let front = [mh - 1 - rows.first, mw - 1 - cols.first];
      let back = [rows.back, cols.back];
      let source = dy;
      if (front[0] < 0 || front[1] < 0 || back[0] < 0 || back[1] < 0) {
        const begin = [0, Math.max(0, -front[0]), Math.max(0, -front[1]), 0];
        source = run(
          'Slice',
          { x: dy },
          { begin, size: [n, outH - begin[1] - Math.max(0, -back[0]), outW - begin[2] - Math.max(0, -back[1]), co] },
        );
        front = front.map((v) => Math.max(0, v));
        back = back.map((v) => Math.max(0, v));
      }
      const taps = adopt(values, [mh, mw, co, ci]);
      return run(
        'Conv2D',
        { x: source, filter: taps },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [front[0], back[0]],
            [front[1], back[1]],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
          dimRoundingMode: undefined,
        },
      ); // [n, rows.count, cols.count, ci]
    };
    let assembled: TensorInfo;
    if (strides[0] === 1 && strides[1] === 1) {
      assembled = phase(0, 0);
    } else {
      const bands: TensorInfo[] = [];
      for (let rh = 0; rh < strides[0]; rh++) {
        const parts = [];
        for (let rw = 0; rw < strides[1]; rw++)
          parts.push(run('Reshape', { x: phase(rh, rw) }, { shape: [n, rows.count, cols.count, 1, ci] }));
        const band =
          parts.length === 1 ? parts[0] : run('Concat', parts as unknown as Record<string, TensorInfo>, { axis: 3 });
        bands.push(run('Reshape', { x: band }, { shape: [n, rows.count, 1, cols.count * strides[1], ci] }));
      }
      const stacked =
        bands.length === 1 ? bands[0] : run('Concat', bands as unknown as Record<string, TensorInfo>, { axis: 2 });
      assembled = run('Reshape', { x: stacked }, { shape: [n, rows.count * strides[0], cols.count * strides[1], ci] });
    }
    let result = assembled;
    if (rows.offset || cols.offset || assembled.shape[1] !== inputShape[1] || assembled.shape[2] !== inputShape[2]) {
      result = run(
        'Slice',
        { x: assembled },
        { begin: [0, rows.offset, cols.offset, 0], size: [n, inputShape[1], inputShape[2], ci] },
      );
    }
    release(result);
    return result;
  };
}
