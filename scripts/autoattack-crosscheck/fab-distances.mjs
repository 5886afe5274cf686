// Runs this project's FAB-T (AutoAttack's standard settings) on a saved tfjs layers model and the sample's first test
// images; prints JSON: per correctly classified image, the L∞ distance of the adversarial example found (null where
// none). The counterpart of fab_distances.py; a large epsilon (default 255/255) keeps every adversarial example found.
// Usage: node scripts/autoattack-crosscheck/fab-distances.mjs <model dir> [epsilon·255=255] [count=512] [steps=100]
import { fabTargeted } from '@moco-robust/attacks';
import { selectBackend } from '@moco-robust/core';
import { loadModel } from '@moco-robust/models';
import { correctlyClassified } from './cifar.mjs';

const [dir, epsilonArg = '255', countArg = '512', stepsArg = '100'] = process.argv.slice(2);
const count = Number(countArg);
await selectBackend();
const model = await loadModel(`file://${dir}/model.json`);
const { x, y, indices } = correctlyClassified(model, count);
const started = Date.now();
const result = fabTargeted(model, x, y, { epsilon: Number(epsilonArg) / 255, steps: Number(stepsArg), targets: 9 });
const seconds = (Date.now() - started) / 1000;
const distances = Array.from(result.distances, (d, j) => (result.success[j] ? d : null));
console.log(
  JSON.stringify({ implementation: 'moco-robust', epsilon: Number(epsilonArg) / 255, indices, distances, seconds }),
);
