import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError, MocoRobustError } from '@moco-robust/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkAttackInputs, checkImages, checkLabelValues, modelOutputWidth } from './input-checks';
import { randomBatch, tinyConvNet } from './test-helpers/test-models';

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
