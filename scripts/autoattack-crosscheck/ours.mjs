// Runs this project's AutoAttack on a saved tfjs layers model and the sample's first test images; prints JSON.
// Usage: node scripts/autoattack-crosscheck/ours.mjs <model dir> [epsilon·255=8]
//        [attacks=apgd-ce,apgd-t | standard | cpu] [count=512] [seed=0]
import * as tf from '@tensorflow/tfjs-core';
import { autoAttack } from '@moco-robust/attacks';
import { selectBackend } from '@moco-robust/core';
import { loadModel } from '@moco-robust/models';
import { readCifar } from './cifar.mjs';

const [dir, epsilonArg = '8', attacksArg = 'apgd-ce,apgd-t', countArg = '512', seedArg = '0'] = process.argv.slice(2);
const count = Number(countArg);
await selectBackend();
const model = await loadModel(`file://${dir}/model.json`);
const { images, labels } = readCifar('test_batch.bin', count);
const x = tf.tensor4d(images, [count, 32, 32, 3]);
const y = tf.tensor1d(labels, 'int32');
const firstLogits = tf.tidy(() => model.predict(tf.slice(x, [0, 0, 0, 0], [4, -1, -1, -1])).arraySync());
const started = Date.now();
const finishedAt = {}; // attack → seconds since the start when its last batch ended
const version = attacksArg === 'standard' || attacksArg === 'cpu' ? { version: attacksArg } : undefined;
const result = autoAttack(model, x, y, {
  ...(version ?? { attacks: attacksArg.split(',') }),
  epsilon: Number(epsilonArg) / 255,
  seed: Number(seedArg),
  onEvent: (e) => {
    finishedAt[e.attack] = (Date.now() - started) / 1000;
    console.error(`${e.attack} ${e.done}/${e.total} (${finishedAt[e.attack].toFixed(0)} s)`);
  },
});
result.adversarial.dispose();
const { robustFlags: _flags, adversarial: _adversarial, ...summary } = result;
console.log(
  JSON.stringify({
    implementation: 'moco-robust',
    ...summary,
    seconds: (Date.now() - started) / 1000,
    finishedAt,
    firstLogits,
  }),
);
