import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError, MocoRobustError } from '@moco-robust/core';
import { useBackend } from '@moco-robust/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apgd } from './apgd';
import { apgdTargeted } from './apgd-targeted';
import { fgsm } from './fgsm';
import { checkAttackInputs, checkImages, checkLabelValues, modelOutputWidth } from './input-checks';
import { instancePgd } from './instance-pgd';
import { mocoApgd } from './moco-apgd';
import { mocoFgsm, mocoPgd } from './moco-pgd';
import { pgd } from './pgd';
import { square } from './square';
import { supervisedApgd } from './supervised-apgd';
import { supervisedPgd } from './supervised-pgd';
import { randomBatch, randomUnitRows, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The error `run` throws, checked to be an `InvalidArgumentError` that leaked no tensor. */
function refusal(run: () => void): InvalidArgumentError {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect(MocoRobustError.isInstance(caught)).toBe(true);
  return caught as InvalidArgumentError;
}

describe('checkAttackInputs', () => {
  const model = tinyConvNet(10);
  const { x, y } = randomBatch(4);

  it('accepts a valid batch, and pixels a float rounding above 1', () => {
    const before = tf.memory().numTensors;
    expect(() => checkAttackInputs(x, { y, model })).not.toThrow();
    const nearlyOne = tf.fill([2, 8, 8, 3], 1 + 1e-7) as tf.Tensor4D;
    expect(() => checkImages(nearlyOne)).not.toThrow();
    nearlyOne.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses 0–255 pixels with the hint to divide by 255', () => {
    const x255 = tf.mul(x, 255) as tf.Tensor4D;
    const error = refusal(() => checkAttackInputs(x255, { y, model }));
    expect(error.argument).toBe('x');
    expect(error.message).toMatch(/divide by 255/);
    x255.dispose();
  });

  it('refuses normalised and far out-of-range pixels, naming the argument it was given', () => {
    const normalised = tf.sub(x, 0.5) as tf.Tensor4D;
    const error = refusal(() => checkImages(normalised, 'images'));
    expect(error.argument).toBe('images');
    expect(error.message).toMatch(/normalised/);
    const huge = tf.mul(x, 1000) as tf.Tensor4D;
    expect(refusal(() => checkImages(huge)).message).toMatch(/rescale the images to \[0, 1\]/);
    tf.dispose([normalised, huge]);
  });

  it('refuses NaN and infinite pixels, counting them', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const poisoned = tf.tidy(() => tf.concat([tf.fill([1, 8, 8, 3], bad), tf.slice(x, 1, 3)])) as tf.Tensor4D;
      const error = refusal(() => checkAttackInputs(poisoned, { y, model }));
      expect(error.argument).toBe('x');
      expect(error.message).toMatch(/192 NaN or infinite values/);
      poisoned.dispose();
    }
  });

  it("refuses labels at or above the model's output width, and negative labels", () => {
    const five = tinyConvNet(5);
    const seven = tf.tensor1d([0, 1, 2, 7], 'int32');
    const error = refusal(() => checkAttackInputs(x, { y: seven, model: five }));
    expect(error.argument).toBe('y');
    expect(error.message).toMatch(/\[0, 5\) \(the model has 5 outputs\)/);
    expect(error.message).toMatch(/range over \[0, 7\]/);
    const negative = tf.tensor1d([0, -1, 2, 3], 'int32');
    expect(refusal(() => checkAttackInputs(x, { y: negative })).message).toMatch(/≥ 0/);
    const three = tf.tensor1d([0, 1, 2, 3], 'int32');
    expect(refusal(() => checkAttackInputs(x, { y: three, model, numClasses: 3 })).argument).toBe('y');
    tf.dispose([seven, negative, three]);
  });

  it('reads the width of a function model from one image', () => {
    const forward = (input: tf.Tensor4D) => tf.tidy(() => tf.reshape(tf.mean(input, [1, 2]), [-1, 3]));
    const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
    expect(refusal(() => checkAttackInputs(x, { y: labels, model: forward })).message).toMatch(/\[0, 3\)/);
    expect(modelOutputWidth(forward, x)).toBe(3);
    expect(modelOutputWidth(model)).toBe(10);
    expect(modelOutputWidth(forward)).toBeUndefined();
    labels.dispose();
  });

  it('refuses labels of the wrong type, rank or length as y, and a wrong-rank x as x', () => {
    const floatLabels = tf.tensor1d([0, 1, 2, 3]);
    expect(refusal(() => checkAttackInputs(x, { y: floatLabels, model })).argument).toBe('y');
    const matrix = tf.zeros([4, 1], 'int32');
    expect(refusal(() => checkAttackInputs(x, { y: matrix, model })).argument).toBe('y');
    const short = tf.tensor1d([0, 1], 'int32');
    expect(refusal(() => checkAttackInputs(x, { y: short, model })).argument).toBe('y');
    const single = tf.randomUniform([32, 32, 3]);
    expect(refusal(() => checkAttackInputs(single, { y, model })).argument).toBe('x');
    expect(refusal(() => checkAttackInputs([[0.5]], { y, model })).argument).toBe('x');
    tf.dispose([floatLabels, matrix, short, single]);
  });

  it('costs one host read per call, none for tensors already checked', () => {
    const fresh = tf.clone(x);
    const labels = tf.clone(y);
    const reads = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    checkAttackInputs(fresh, { y: labels, model });
    expect(reads).toHaveBeenCalledTimes(1);
    checkAttackInputs(fresh, { y: labels, model });
    checkImages(fresh);
    expect(reads).toHaveBeenCalledTimes(1);
    const variable = tf.variable(fresh);
    checkImages(variable);
    variable.assign(tf.mul(fresh, 255) as tf.Tensor4D);
    expect(refusal(() => checkImages(variable)).message).toMatch(/divide by 255/);
    expect(reads).toHaveBeenCalledTimes(3);
    tf.dispose([fresh, labels, variable]);
  });

  it('accepts an empty batch without reading it', () => {
    const empty = tf.zeros([0, 8, 8, 3]) as tf.Tensor4D;
    const none = tf.zeros([0], 'int32') as tf.Tensor1D;
    const reads = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    expect(() => checkAttackInputs(empty, { y: none, model })).not.toThrow();
    expect(reads).not.toHaveBeenCalled();
    tf.dispose([empty, none]);
  });
});

describe('checkLabelValues', () => {
  it('accepts labels below the class count and names the first bad one', () => {
    expect(() => checkLabelValues(Int32Array.from([0, 9, 3]), 10)).not.toThrow();
    const error = refusal(() => checkLabelValues(Int32Array.from([0, 9, 3]), 5, 'test.labels'));
    expect(error.argument).toBe('test.labels');
    expect(error.message).toMatch(/label 9 at index 1/);
    expect(refusal(() => checkLabelValues([0, -2], 10)).message).toMatch(/label -2 at index 1/);
  });
});

describe('every public attack checks its inputs at the entry', () => {
  const model = tinyConvNet(10);
  const embedder = tinyConvNet(16, 2);
  const { x, y } = randomBatch(4);
  const keys = randomUnitRows(4, 16, 11);
  const queue = randomUnitRows(8, 16, 12);
  const objective = { query: embedder, keys, queue };
  const loss = (xAdv: tf.Tensor4D) => tf.tidy(() => tf.mean(xAdv, [1, 2, 3]) as tf.Tensor1D);
  const few = { steps: 1 };
  const labelled: Record<string, (images: tf.Tensor4D, labels: tf.Tensor1D) => unknown> = {
    fgsm: (images, labels) => fgsm(model, images, labels),
    supervisedPgd: (images, labels) => supervisedPgd(model, images, labels, few),
    supervisedApgd: (images, labels) => supervisedApgd(model, images, labels, few),
    apgdTargeted: (images, labels) => apgdTargeted(model, images, labels, { ...few, targets: 1 }),
    square: (images, labels) => square(model, images, labels, { queries: 2 }),
  };
  const labelFree: Record<string, (images: tf.Tensor4D) => unknown> = {
    pgd: (images) => pgd(loss, images, few),
    apgd: (images) => apgd(loss, images, few),
    mocoPgd: (images) => mocoPgd(objective, images, few),
    mocoFgsm: (images) => mocoFgsm(objective, images),
    mocoApgd: (images) => mocoApgd(objective, images, few),
    instancePgd: (images) => instancePgd({ embed: embedder, positives: keys }, images, few),
  };
  const x255 = tf.mul(x, 255) as tf.Tensor4D;
  const xNaN = tf.tidy(() => tf.concat([tf.fill([1, 8, 8, 3], Number.NaN), tf.slice(x, 1, 3)])) as tf.Tensor4D;
  const single = tf.randomUniform([8, 8, 3]) as unknown as tf.Tensor4D;
  const badLabels = tf.tensor1d([0, 1, 2, 12], 'int32');

  for (const [name, attack] of Object.entries(labelled)) {
    it(`${name}: refuses 0–255 and NaN pixels as x, a label ≥ 10 as y, a single image as x; no leaks`, () => {
      const scaled = refusal(() => attack(x255, y));
      expect([scaled.argument, /divide by 255/.test(scaled.message)]).toEqual(['x', true]);
      expect(refusal(() => attack(xNaN, y)).argument).toBe('x');
      const label = refusal(() => attack(x, badLabels));
      expect([label.argument, /\[0, 10\)/.test(label.message)]).toEqual(['y', true]);
      expect(refusal(() => attack(single, y)).argument).toBe('x');
    });
  }
  for (const [name, attack] of Object.entries(labelFree)) {
    it(`${name}: refuses 0–255 and NaN pixels and a single image as x; no leaks`, () => {
      expect(refusal(() => attack(x255)).message).toMatch(/Invalid argument 'x'.*divide by 255/);
      expect(refusal(() => attack(xNaN)).argument).toBe('x');
      expect(refusal(() => attack(single)).argument).toBe('x');
    });
  }
});

describe('the checks on the wasm backend (the browser playground)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('refuses 0–255 and NaN pixels and out-of-range labels with the same errors, leaking nothing', () => {
    const model = tinyConvNet(10);
    const { x, y } = randomBatch(4);
    const x255 = tf.mul(x, 255) as tf.Tensor4D;
    const xNaN = tf.tidy(() => tf.concat([tf.fill([1, 8, 8, 3], Number.NaN), tf.slice(x, 1, 3)])) as tf.Tensor4D;
    const badLabels = tf.tensor1d([0, 1, 2, 12], 'int32');
    expect(() => checkAttackInputs(x, { y, model })).not.toThrow();
    expect(refusal(() => fgsm(model, x255, y)).message).toMatch(/divide by 255/);
    expect(refusal(() => checkAttackInputs(xNaN, { y, model })).message).toMatch(/192 NaN or infinite values/);
    expect(refusal(() => checkAttackInputs(x, { y: badLabels, model })).argument).toBe('y');
    tf.dispose([x, y, x255, xNaN, badLabels]);
  });
});
