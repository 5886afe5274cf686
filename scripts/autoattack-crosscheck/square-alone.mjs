// Runs this project's Square Attack alone with AutoAttack's standard settings (L∞, 5,000 queries, p_init 0.8) on a
// saved tfjs layers model and the correctly classified images among the sample's first test images; prints JSON: per
// image, the queries spent and whether it broke; the robust accuracy; the median queries of the broken images.
// The counterpart of square_alone.py (a random search with its own generator: compare the counts, not the images).
// Usage: node scripts/autoattack-crosscheck/square-alone.mjs <model dir> [epsilon·255=1] [count=512] [queries=5000]
//   [seed=0]
import * as tf from '@tensorflow/tfjs-core';
import { square } from '@moco-robust/attacks';
import { selectBackend } from '@moco-robust/core';
import { loadModel } from '@moco-robust/models';
import { correctlyClassified } from './cifar.mjs';

const [dir, epsilonArg = '1', countArg = '512', queriesArg = '5000', seedArg = '0'] = process.argv.slice(2);
const count = Number(countArg);
const epsilon = Number(epsilonArg) / 255;
await selectBackend();
const model = await loadModel(`file://${dir}/model.json`);
const { x, y, indices } = correctlyClassified(model, count);
const started = Date.now();
const result = square(model, x, y, { epsilon, queries: Number(queriesArg), pInit: 0.8, rng: Number(seedArg) });
const seconds = (Date.now() - started) / 1000;
// success is the attack's own margin test; check it against a fresh prediction of the returned images
const fooled = tf.tidy(() => tf.notEqual(tf.argMax(model.predict(result.adversarial), 1), y).dataSync());
const largestDistance = tf.tidy(() => tf.max(tf.abs(tf.sub(result.adversarial, x))).dataSync()[0]);
const broken = [...result.queries].filter((_, j) => fooled[j]).sort((a, b) => a - b);
const middle = broken.length / 2;
const medianQueries =
  broken.length === 0
    ? null
    : broken.length % 2
      ? broken[Math.floor(middle)]
      : (broken[middle - 1] + broken[middle]) / 2;
console.log(
  JSON.stringify({
    implementation: 'moco-robust',
    epsilon,
    queries: Number(queriesArg),
    seed: Number(seedArg),
    correct: indices.length,
    broken: broken.length,
    robustAccuracy: (indices.length - broken.length) / count,
    medianQueries,
    largestDistance,
    agreesWithAttack: [...fooled].every((f, j) => f === result.success[j]),
    indices,
    spent: [...result.queries],
    success: [...fooled],
    seconds,
  }),
);
