import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@moco-robust/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTOATTACK_VERSIONS, autoAttack, type AutoAttackEvent } from './auto-attack';
import { randomBatch, tinyConvNet } from './test-helpers/tiny-conv-net';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const epsilon = 4 / 255;

describe('autoAttack', () => {
  const model = tinyConvNet();
  const { x } = randomBatch(10);
  // labels = the model's predictions on all but the last two images, which get a wrong label
  const y = tf.tidy(() => {
    const predicted = tf.cast(tf.argMax(model.predict(x) as tf.Tensor2D, 1), 'int32');
    const wrong = tf.mod(tf.add(predicted, 1), 10);
    return tf.concat([tf.slice(predicted, [0], [8]), tf.slice(wrong, [8], [2])]) as tf.Tensor1D;
  });

  it('runs each attack only on the points still robust and reports the cascade, without leaking', () => {
    const before = tf.memory().numTensors;
    const events: AutoAttackEvent[] = [];
    const result = autoAttack(model, x, y, {
      epsilon,
      steps: 5,
      targets: 3,
      queries: 20,
      batchSize: 4,
      seed: 1,
      onEvent: (e) => events.push(e),
    });
    expect(result.version).toBe('standard');
    expect(result.clean).toBe(8);
    expect(result.cascade.map((s) => s.attack)).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    expect(result.notes).toEqual([]);
    let robust = result.clean;
    for (const stage of result.cascade) {
      expect(stage.attacked).toBe(robust); // only the points no earlier attack broke
      expect(stage.robustAfter).toBe(stage.attacked - stage.broke);
      robust = stage.robustAfter;
    }
    expect(result.robust).toBe(robust);
    expect(result.robustAccuracy).toBeCloseTo(robust / 10, 10);
    expect(result.cascade[0].broke).toBeGreaterThan(0);
    // the flags agree with the returned images, which stay in the ε-ball
    const correct = tf.tidy(() =>
      tf.equal(tf.argMax(model.predict(result.adversarial) as tf.Tensor2D, 1), y).dataSync(),
    );
    expect(Array.from(correct, Number)).toEqual(Array.from(result.robustFlags));
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(result.adversarial, x))).dataSync()[0])).toBeLessThanOrEqual(
      epsilon + 1e-6,
    );
    expect(events.filter((e) => e.attack === 'apgd-ce').map((e) => e.done)).toEqual([4, 8]);
    result.adversarial.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'cpu' is APGD-CE + APGD-T, and an explicit list is honoured", () => {
    expect(AUTOATTACK_VERSIONS.cpu).toEqual(['apgd-ce', 'apgd-t']);
    const cpu = autoAttack(model, x, y, { version: 'cpu', epsilon, steps: 3, targets: 2, seed: 2 });
    expect(cpu.cascade.map((s) => s.attack)).toEqual(['apgd-ce', 'apgd-t']);
    expect(cpu.notes).toEqual([]);
    const only = autoAttack(model, x, y, { attacks: ['square'], epsilon, queries: 10 });
    expect(only.version).toBe('custom');
    expect(only.cascade.map((s) => s.attack)).toEqual(['square']);
    tf.dispose([cpu.adversarial, only.adversarial]);
  });

  it('checks its options, naming the argument', () => {
    expect(() => autoAttack(model, x, y, { version: 'plus' as 'cpu' })).toThrow(InvalidArgumentError);
    expect(() => autoAttack(model, x, y, { attacks: ['pgd' as 'square'] })).toThrow(/attacks/);
    expect(() => autoAttack(model, x, y, { batchSize: 0 })).toThrow(/batchSize/);
  });
});
