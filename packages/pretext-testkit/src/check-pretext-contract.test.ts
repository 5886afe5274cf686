import * as tf from '@tensorflow/tfjs-core';
import { MocoRobustError, type PretextTaskV1 } from '@moco-robust/core';
import { useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPretextContract } from './check-pretext-contract';
import { ConformanceError } from './conformance-error';
import { flipTask } from './flip-task.fixture';

beforeAll(async () => {
  await useFastestBackend();
});

/** The flip task with some of its parts replaced. */
const broken = (change: (task: PretextTaskV1) => Partial<PretextTaskV1>): PretextTaskV1 => {
  const task = flipTask();
  return { ...task, ...change(task) };
};

describe('checkPretextContract', () => {
  it('passes a correct task, reports what it measured and leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    const report = checkPretextContract(flipTask());
    expect(report).toMatchObject({
      name: 'flip',
      combine: 'mean',
      heads: { classifier: 2 },
      inputShape: [8, 32, 32, 3],
      optional: { craft: false, trainingLoss: false },
    });
    expect(report.meanLoss).toBeGreaterThan(0.3); // untrained 2-way: near ln 2
    expect(tf.memory().numTensors).toBe(before);
  });

  // each case: a deliberately broken task and the words the error must contain
  const cases: Array<[string, PretextTaskV1, RegExp]> = [
    [
      'a loss averaged over the batch',
      broken((t) => ({ loss: (c, x, y) => tf.tidy(() => tf.mean(t.loss(c, x, y)) as tf.Tensor1D) })),
      /checkPretextContract: loss: expected per-example losses \[8\].*got Tensor \[\] float32/,
    ],
    [
      'a makeBatch that leaks a tensor',
      broken((t) => ({
        makeBatch: (images, rng, c) => {
          tf.scalar(1);
          return t.makeBatch(images, rng, c);
        },
      })),
      /a step \(makeBatch, craft, loss \/ trainingLoss, afterStep\): expected no tensor left behind.*got 1 more tensor/,
    ],
    [
      'a makeBatch that ignores its rng',
      broken((t) => ({
        makeBatch: (images, _rng, c) =>
          t.makeBatch(images, { nextUint32: () => Math.floor(Math.random() * 2 ** 32) } as never, c),
      })),
      /makeBatch: expected the same inputs from the same seed/,
    ],
    [
      'normalised inputs',
      broken((t) => ({
        makeBatch: (images, rng, c) => {
          const b = t.makeBatch(images, rng, c);
          const inputs = tf.tidy(() => tf.div(tf.sub(b.inputs, 0.5), 0.25) as tf.Tensor4D);
          b.inputs.dispose();
          return { ...b, inputs };
        },
      })),
      /makeBatch → inputs: expected pixel values in \[0, 1\].*got values in \[-/,
    ],
    [
      'a loss computed on the host',
      broken((t) => ({ loss: (c, x, y) => tf.tensor1d(Array.from(t.loss(c, x, y).dataSync())) })),
      /loss: expected a gradient in the inputs that is finite and not all zero/,
    ],
    [
      'a head the loss never uses',
      broken((t) => ({ createHeads: (e, r) => ({ ...t.createHeads(e, r), unused: t.createHeads(e, r).classifier }) })),
      /loss: expected a gradient reaching the trainable weights of heads.unused/,
    ],
    [
      'a state that loadState refuses',
      broken(() => ({
        loadState: () => {
          throw new Error('no');
        },
      })),
      /loadState: expected to accept the task’s own state\(\) after a JSON round trip, got an error: no/,
    ],
    [
      'a combine the engine does not know',
      broken(() => ({ combine: 'sum' as never })),
      /combine: expected 'adversarial' or 'mean', got string "sum"/,
    ],
    [
      'a craft that leaves the ε-ball',
      broken((_t) => ({ craft: (_c, x) => tf.tidy(() => tf.clipByValue(tf.add(x, 0.1), 0, 1) as tf.Tensor4D) })),
      /craft: expected adversarial inputs within the L∞ ball of radius 0.03137/,
    ],
  ];

  it.each(cases)(
    'catches %s with a message naming the part, what was expected and what was got',
    (name, task, message) => {
      const before = tf.memory().numTensors;
      let error: unknown;
      try {
        checkPretextContract(task);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConformanceError);
      expect(MocoRobustError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      // the check disposes its encoder, heads and images even when it fails — except the leaking task's own
      // leaks and, when tfjs cannot compute a gradient, the forward tensors its tape kept for the backward pass
      if (!/leaks|host/.test(name)) expect(tf.memory().numTensors).toBe(before);
    },
  );
});
