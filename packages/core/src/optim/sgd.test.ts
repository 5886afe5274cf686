import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineSchedule, stepSchedule } from './lr-schedule';
import { Sgd } from './sgd';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Sgd', () => {
  it('follows PyTorch SGD (momentum, dampening 0, coupled weight decay) step by step', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new Sgd({ learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 });
    // Reference by hand: g = grad + wd·w; b = g (first) then 0.9 b + g; w -= lr·b
    let ref = [1, -2];
    let buf = [0, 0];
    const grads = [
      [0.5, 0.25],
      [-1, 2],
      [0.1, 0.1],
    ];
    grads.forEach((g, step) => {
      sgd.step([w], { [w.name]: tf.tensor1d(g) });
      const d = g.map((gi, i) => gi + 0.01 * ref[i]);
      buf = step === 0 ? d : buf.map((b, i) => 0.9 * b + d[i]);
      ref = ref.map((r, i) => r - 0.1 * buf[i]);
      const got = w.dataSync();
      expect(got[0]).toBeCloseTo(ref[0], 6);
      expect(got[1]).toBeCloseTo(ref[1], 6);
    });
    sgd.dispose();
    w.dispose();
  });

  it('saves and restores its momentum exactly and keeps the tensor count flat', () => {
    const make = () =>
      tf.variable(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      );
    const a = make();
    const sgd = new Sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true });
    sgd.step([a], [tf.ones([2, 2])]);
    const state = sgd.state([a]);
    const b = tf.variable(a.clone());
    const restored = new Sgd({ learningRate: 1, momentum: 0.9, nesterov: true });
    restored.loadState([b], state);
    expect(restored.learningRate).toBe(0.05);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const g = tf.fill([2, 2], i / 10);
      sgd.step([a], [g]);
      restored.step([b], [g]);
      g.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => restored.loadState([b, a], state)).toThrow(/state.buffers/);
  });
});

describe('schedules', () => {
  it('cosine goes from base to min with warm-up', () => {
    const s = cosineSchedule({ baseLr: 0.06, total: 100, warmup: 10 });
    expect(s(0)).toBeCloseTo(0.006);
    expect(s(9)).toBeCloseTo(0.06);
    expect(s(10)).toBeCloseTo(0.06);
    expect(s(55)).toBeCloseTo(0.03);
    expect(s(100)).toBeCloseTo(0);
  });

  it('step decay multiplies at milestones', () => {
    const s = stepSchedule({ baseLr: 0.1, milestones: [60, 80] });
    expect(s(59)).toBeCloseTo(0.1);
    expect(s(60)).toBeCloseTo(0.01);
    expect(s(85)).toBeCloseTo(0.001);
    expect(() => cosineSchedule({ baseLr: -1, total: 1 })).toThrow(/baseLr/);
  });
});
