import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { releaseGradientMemory } from './release-gradient-memory';

type Gradients = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

/** tfjs-core's own gradient pass (the engine's class method, which the install shadows on the instance). */
let tfjsGradients: Gradients;

beforeAll(async () => {
  await import('@tensorflow/tfjs-layers').catch(() => undefined); // a real gradient registry
  await tf.setBackend('cpu');
  const engine = tf.engine();
  const method = Object.getPrototypeOf(engine).gradients as Gradients;
  // the class's own tape recording too: the install keeps no inputs for shape-only gradients (Reshape, Add, Sub)
  tfjsGradients = (...args) => {
    const recording = Object.getOwnPropertyDescriptor(engine, 'addTapeNode');
    if (recording) delete (engine as unknown as { addTapeNode?: unknown }).addTapeNode;
    try {
      return method.apply(engine, args);
    } finally {
      if (recording) Object.defineProperty(engine, 'addTapeNode', recording);
    }
  };
  expect(releaseGradientMemory()).toBe(true);
  expect(releaseGradientMemory()).toBe(true); // idempotent
});

const ours: Gradients = (...args) => (tf.engine() as unknown as { gradients: Gradients }).gradients(...args);

/** Both passes' value and gradients as plain arrays, every tensor they made disposed. */
function both(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor) {
  const read = (run: Gradients) => {
    const { value, grads } = run(f, xs, dy);
    const out = { value: Array.from(value.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
    tf.dispose([value, ...grads]);
    return out;
  };
  return { tfjs: read(tfjsGradients), ours: read(ours) };
}

/** A small convolutional net: conv → training-mode batch-norm (moments) → relu → residual → split → dense. */
function smallNet(rng: () => number) {
  const r = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b) }, rng), shape);
  const x = r([4, 6, 6, 3]);
  const w = {
    conv: tf.variable(tf.mul(r([3, 3, 3, 8]), 0.3)),
    conv2: tf.variable(tf.mul(r([3, 3, 8, 8]), 0.2)),
    gamma: tf.variable(tf.add(r([8]), 1)),
    beta: tf.variable(r([8])),
    dense: tf.variable(tf.mul(r([4 * 6 * 6 * 4, 5]), 0.05)),
  };
  const loss = (input: tf.Tensor) => {
    const h = tf.conv2d(input as tf.Tensor4D, w.conv as tf.Variable<tf.Rank.R4>, 1, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    const n = tf.relu(tf.batchNorm(h, mean, variance, w.beta, w.gamma, 1e-5));
    const h2 = tf.add(n, tf.conv2d(n as tf.Tensor4D, w.conv2 as tf.Variable<tf.Rank.R4>, 1, 'same'));
    const [kept] = tf.split(h2, 2, 3); // a multi-output kernel with an unused output
    const logits = tf.matMul(tf.reshape(kept, [1, -1]), w.dense);
    return tf.losses.softmaxCrossEntropy(tf.oneHot([2], 5), logits);
  };
  return { x, w, loss };
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
}

describe('releaseGradientMemory', () => {
  it("gives tfjs-core's gradients exactly: weights, inputs, a given dy; refuses y = x alike", () => {
    const { x, w, loss } = smallNet(seeded(1));
    const weights = Object.values(w);
    const before = tf.memory().numTensors;
    const a = both(() => loss(x), weights);
    expect(a.ours).toEqual(a.tfjs);
    const b = both(() => loss(x), [x]);
    expect(b.ours).toEqual(b.tfjs);
    const dy = tf.tensor([0.5, -2, 3], [3]);
    const c = both(() => tf.mul(tf.square(tf.reshape(tf.slice(x, [0, 0, 0, 0], [1, 1, 1, 3]), [3])), 3), [x], dy);
    expect(c.ours).toEqual(c.tfjs);
    expect(dy.isDisposed).toBe(false); // the caller's dy is the caller's
    // Mean's shape-only gradient: a global average pooling, one axis kept, every axis
    for (const mean of [
      (t: tf.Tensor) => tf.mean(t, [1, 2]),
      (t: tf.Tensor) => tf.mean(t, -1, true),
      (t: tf.Tensor) => tf.mean(t),
    ]) {
      const d = both(() => tf.sum(tf.exp(mean(tf.mul(x, x)))), [x]);
      expect(d.ours).toEqual(d.tfjs);
    }
    // y = x has no kernel on the path: both refuse it alike
    expect(() => ours(() => x, [x])).toThrow(/Cannot compute gradient of y=f\(x\)/);
    expect(() => tfjsGradients(() => x, [x])).toThrow(/Cannot compute gradient of y=f\(x\)/);
    dy.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...weights]);
  });

  it('keeps no input of Reshape, Add, Sub or Mean on the tape (shape-only gradients), others as before', () => {
    const x = tf.randomNormal([4, 3]);
    const c = tf.randomNormal([3]);
    let saved: Record<string, number> = {};
    const { value, grads } = ours(() => {
      const y = tf.exp(tf.add(tf.reshape(tf.sub(tf.add(x, c), c), [12]), tf.mean(x)));
      const tape = (
        tf.engine() as unknown as { state: { activeTape: Array<{ kernelName: string; saved?: unknown[] }> } }
      ).state.activeTape;
      saved = Object.fromEntries(tape.map((node) => [node.kernelName, node.saved?.length ?? 0]));
      return tf.sum(y);
    }, [x, c]);
    expect(saved).toMatchObject({ Add: 0, Sub: 0, Reshape: 0, Mean: 0, Exp: 1 });
    // y = exp(x + m), m the mean of x: ∂/∂x = exp(x + m) + Σ exp(x + m) / 12 (c cancels); ∂/∂c = 0
    const e = tf.exp(tf.add(x, tf.mean(x)));
    const expected = tf.add(e, tf.div(tf.sum(e), 12));
    expect(Math.max(...tf.abs(tf.sub(grads[0]!, expected)).dataSync())).toBeLessThan(1e-5);
    expect(Math.max(...tf.abs(grads[1]!).dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, c, value, ...grads]);
  });

  it('keeps a gradient that a custom gradient hands back as its dy or as a saved tensor', () => {
    const x = tf.tensor([1, 2, 3]);
    // tfjs types customGrad's arguments as one union of the inputs and the save function
    type Argument = tf.Tensor | tf.GradSaveFunc;
    const passDy = tf.customGrad((input: Argument) => ({
      value: tf.mul(input as tf.Tensor, 2),
      gradFunc: (dy: tf.Tensor) => dy,
    }));
    const passSaved = tf.customGrad((input: Argument, save: Argument) => {
      (save as tf.GradSaveFunc)([tf.mul(input as tf.Tensor, 2)]);
      return { value: tf.square(input as tf.Tensor), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => saved[0]! };
    });
    const before = tf.memory().numTensors;
    const a = both(() => tf.sum(tf.mul(passDy(tf.exp(x)), 3)), [x]);
    expect(a.ours).toEqual(a.tfjs);
    const b = both(() => tf.sum(tf.add(passSaved(x), passSaved(tf.mul(x, 3)))), [x]);
    expect(b.ours).toEqual(b.tfjs);
    expect(b.ours.grads[0]).toEqual([2 + 18, 4 + 36, 6 + 54]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('leaves higher-order gradients as tfjs computes them', () => {
    const x = tf.tensor([0.5, -1, 2]);
    const second = tf.grad((v: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.pow(u, 3), tf.sin(u))))(v));
    const values = Array.from(second(x).dataSync());
    const expected = Array.from(x.dataSync()).map(
      (v) => 6 * v * Math.sin(v) + 6 * v ** 2 * Math.cos(v) - v ** 3 * Math.sin(v),
    );
    values.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 4));
    x.dispose();
  });

  it('holds less memory at its peak than tfjs-core on a deep chain', async () => {
    const x = tf.randomNormal([64, 256], 0, 1, 'float32', 1);
    const weights = Array.from({ length: 12 }, (_, k) =>
      tf.variable(tf.randomNormal([256, 256], 0, 0.06, 'float32', k)),
    );
    const f = () => tf.sum(weights.reduce((h, w) => tf.relu(tf.matMul(h, w)), x as tf.Tensor));
    /** The most bytes alive after any kernel of one gradient, above what was alive before (tf.profile's snapshots). */
    const peak = async (run: Gradients) => {
      const start = tf.memory().numBytes;
      const profile = await tf.profile(() => {
        const { value, grads } = run(f, weights);
        tf.dispose([value, ...grads]);
      });
      return Math.max(...profile.kernels.map((k) => k.totalBytesSnapshot)) - start;
    };
    const tfjsPeak = await peak(tfjsGradients);
    const ourPeak = await peak(ours);
    // tfjs holds every layer's saved tensors and every gradient to the end; here they go as the pass goes
    expect(ourPeak).toBeLessThan(0.7 * tfjsPeak);
    tf.dispose([x, ...weights]);
  });
});
