// The playground page: wires the DOM to load-run.ts and attack-runner.ts (the attacks are @moco-robust/attacks').
import '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, type BackendName } from '@moco-robust/core';
import { CIFAR10_CLASSES } from '@moco-robust/data';
import {
  attackImage,
  type AttackSettings,
  type ImageResult,
  type MocoParts,
  type PlaygroundAttack,
} from './attack-runner';
import { benchSettings, runBench } from './bench';
import {
  fetchImages,
  fetchManifest,
  loadDroppedModel,
  loadServedModel,
  loadServedMoco,
  mocoFromEncoder,
  readImageFile,
  type ImageBank,
} from './load-run';

interface Item {
  key: string;
  pixels: Uint8Array;
  label?: number;
  name: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: {
  classifier?: tfl.LayersModel;
  moco?: MocoParts;
  bank?: ImageBank;
  items: Item[];
  selected: Set<string>;
} = { items: [], selected: new Set() };
let mocoQueue: tf.Tensor | undefined;

function setStatus(text: string): void {
  $('status').textContent = text;
}

async function start(): Promise<void> {
  const forced = new URLSearchParams(location.search).get('backend') ?? undefined;
  const selection = await selectBackend({
    backend: forced as BackendName | undefined,
    loaders: {
      webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
      webgl: () => import('@tensorflow/tfjs-backend-webgl'),
    },
    wasmPaths: new URL('./', location.href).href,
  });
  const badge = $('backend');
  badge.textContent = `backend: ${selection.name}${selection.threads ? ` (${selection.threads} threads)` : ''}`;
  badge.title = selection.attempts.map((a) => `${a.name}: ${a.ok ? 'ok' : a.reason}`).join('\n');
  document.body.dataset.backend = selection.name;
  if (selection.threads) document.body.dataset.threads = String(selection.threads);
  document.body.dataset.attempts = JSON.stringify(selection.attempts);
  const manifest = await fetchManifest();
  if (manifest?.data) setBank(await fetchImages(manifest.data));
  if (manifest?.classifier) state.classifier = await loadServedModel(manifest.classifier);
  if (manifest?.encoder) setMoco(await loadServedMoco(manifest.encoder, state.bank));
  if (!manifest) ($('drop') as HTMLDetailsElement).open = true;
  refresh();
  document.body.dataset.state = 'ready';
  const query = new URLSearchParams(location.search);
  if (query.has('bench')) await bench(query, selection.threads);
}

/** `?bench`: measures the classifier on this backend and shows the result (scripts/browser-bench.mjs reads it). */
async function bench(query: URLSearchParams, threads: number | undefined): Promise<void> {
  const settings = benchSettings(query);
  if (!state.classifier || !state.bank) throw new Error('?bench needs the served classifier and test images');
  document.body.dataset.state = 'running';
  setStatus(`bench: ${settings.batch} images, inference and PGD-${settings.steps}…`);
  const result = await runBench(state.classifier, state.bank, settings);
  setStatus(
    `bench on ${result.backend}: inference ${result.inferenceImagesPerSecond.toFixed(1)} images/s, ` +
      `PGD-${result.steps} ${result.pgdImagesPerSecond.toFixed(2)} images/s (batch ${result.batch})`,
  );
  document.body.dataset.bench = JSON.stringify({ ...result, ...(threads ? { threads } : {}) });
  document.body.dataset.state = 'done';
}

function setBank(bank: ImageBank): void {
  state.bank = bank;
  state.items = state.items.filter((item) => item.key.startsWith('upload'));
  for (let i = 0; i < Math.min(bank.count, 64); i++)
    state.items.push({
      key: `test/${i}`,
      pixels: bank.images.slice(i * 3072, (i + 1) * 3072),
      label: bank.labels[i],
      name: `test image ${i}`,
    });
  state.selected = new Set(state.items.slice(0, 8).map((item) => item.key));
}

function setMoco(moco: MocoParts): void {
  mocoQueue?.dispose();
  state.moco = moco;
  mocoQueue = moco.queue;
}

function refresh(): void {
  const picker = $('picker');
  picker.replaceChildren(
    ...state.items.map((item) => {
      const canvas = drawImage(item.pixels);
      canvas.title = `${item.name}${item.label !== undefined ? ` (${CIFAR10_CLASSES[item.label]})` : ''}`;
      canvas.dataset.key = item.key;
      canvas.classList.toggle('selected', state.selected.has(item.key));
      canvas.onclick = () => {
        if (!state.selected.delete(item.key)) state.selected.add(item.key);
        canvas.classList.toggle('selected', state.selected.has(item.key));
      };
      return canvas;
    }),
  );
  const parts = [
    state.classifier ? 'classifier loaded' : 'no classifier yet (use your own files)',
    state.moco ? 'encoder loaded (MoCo attacks available)' : 'no encoder: MoCo attacks unavailable',
    `${state.items.length} images`,
  ];
  setStatus(parts.join(' · '));
  ($('run') as HTMLButtonElement).disabled = !state.classifier;
}

/** `8/255` → 0.0313…; a plain number as is. */
function fraction(id: string): number {
  const text = ($(id) as HTMLInputElement).value;
  const match = /^\s*([\d.]+)\s*\/\s*([\d.]+)\s*$/.exec(text);
  const value = match ? Number(match[1]) / Number(match[2]) : Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${id}: expected a number in [0, 1] or 8/255`);
  return value;
}

async function runAttack(): Promise<void> {
  const settings: AttackSettings = {
    attack: ($('attack') as HTMLSelectElement).value as PlaygroundAttack,
    epsilon: fraction('epsilon'),
    stepSize: fraction('step-size'),
    steps: Number(($('steps') as HTMLInputElement).value),
    seed: Number(($('seed') as HTMLInputElement).value),
  };
  const items = state.items.filter((item) => state.selected.has(item.key));
  const progress = $('progress') as HTMLProgressElement;
  const body = $('results').querySelector('tbody')!;
  body.replaceChildren();
  document.body.dataset.state = 'running';
  progress.max = items.length;
  progress.value = 0;
  const results: ImageResult[] = [];
  const started = performance.now();
  for (const item of items) {
    const result = await attackImage(state.classifier!, state.moco, item.pixels, item.label, item.key, settings);
    results.push(result);
    body.append(resultRow(item, result, settings));
    progress.value = results.length;
    $('summary').textContent = `${results.length}/${items.length} images, ${seconds(performance.now() - started)}`;
  }
  const total = performance.now() - started;
  const perImage = (total / Math.max(1, results.length)).toFixed(0);
  const robust = results.filter((r) => r.adversarialPrediction === r.label).length;
  const clean = results.filter((r) => r.cleanPrediction === r.label).length;
  $('summary').textContent =
    `robust accuracy ${robust}/${results.length} (${percent(robust, results.length)}) · clean ` +
    `${clean}/${results.length} · ${seconds(total)} (${perImage} ms/image on ` +
    `${document.body.dataset.backend})`;
  document.body.dataset.state = 'done';
}

function resultRow(item: Item, result: ImageResult, settings: AttackSettings): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.testid = 'result';
  row.dataset.key = item.key;
  row.dataset.cleanPrediction = String(result.cleanPrediction);
  row.dataset.adversarialPrediction = String(result.adversarialPrediction);
  row.dataset.cleanProbabilities = JSON.stringify(result.cleanProbabilities);
  row.dataset.adversarialProbabilities = JSON.stringify(result.adversarialProbabilities);
  if (result.representationCosine !== undefined) row.dataset.cosine = String(result.representationCosine);
  const perturbation = new Uint8Array(3072);
  for (let i = 0; i < 3072; i++) {
    const delta = (result.adversarial[i] - item.pixels[i]) / 255 / Math.max(settings.epsilon, 1e-6);
    perturbation[i] = Math.max(0, Math.min(255, Math.round(127.5 + delta * 127.5)));
  }
  const name = (c: number) => CIFAR10_CLASSES[c];
  const moved =
    settings.attack.startsWith('moco') && result.representationCosine !== undefined
      ? `<br>representation moved: cosine ${result.representationCosine.toFixed(3)} (1 − cos = ` +
        `${(1 - result.representationCosine).toFixed(3)})`
      : '';
  const cells = [drawImage(item.pixels), drawImage(result.adversarial), drawImage(perturbation)].map((canvas) => {
    const cell = document.createElement('td');
    cell.append(canvas);
    return cell;
  });
  const flipped = result.adversarialPrediction !== result.label;
  cells[0].insertAdjacentHTML(
    'beforeend',
    `<div class="caption">${item.name}<br>label: ${item.label !== undefined ? name(item.label) : '— (upload)'}<br>` +
      `prediction: ${name(result.cleanPrediction)}</div>`,
  );
  cells[1].insertAdjacentHTML(
    'beforeend',
    `<div class="caption ${flipped ? 'wrong' : ''}">prediction: ${name(result.adversarialPrediction)}${moved}</div>`,
  );
  const bars = document.createElement('td');
  bars.innerHTML = `<div class="bars"><span></span><b>clean</b><b>adversarial</b>${CIFAR10_CLASSES.map(
    (c, i) =>
      `<span>${c}</span><div class="bar" style="width:${(result.cleanProbabilities[i] * 130).toFixed(1)}px"></div>` +
      `<div class="bar adversarial" style="width:${(result.adversarialProbabilities[i] * 130).toFixed(1)}px"></div>`,
  ).join('')}</div>`;
  row.append(...cells, bars);
  return row;
}

function drawImage(pixels: Uint8Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 32;
  const image = new ImageData(32, 32);
  for (let p = 0; p < 1024; p++) {
    image.data.set(pixels.subarray(p * 3, p * 3 + 3), p * 4);
    image.data[p * 4 + 3] = 255;
  }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  return canvas;
}

async function upload(files: FileList): Promise<void> {
  for (const file of Array.from(files)) {
    const bitmap = await createImageBitmap(file);
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 32;
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0, 32, 32);
    const rgba = context.getImageData(0, 0, 32, 32).data;
    const pixels = new Uint8Array(3072);
    for (let p = 0; p < 1024; p++) pixels.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
    const key = `upload/${state.items.length}/${file.name}`;
    state.items.unshift({ key, pixels, name: file.name });
    state.selected.add(key);
  }
  refresh();
}

function guard(task: () => Promise<void>): () => void {
  return () => {
    task().catch((error: unknown) => {
      setStatus(`Error: ${(error as Error).message}`);
      document.body.dataset.state = 'error';
      document.body.dataset.error = (error as Error).message;
    });
  };
}

const files = (id: string) => Array.from(($(id) as HTMLInputElement).files ?? []);
$('run').onclick = guard(runAttack);
$('upload').onchange = guard(() => upload(($('upload') as HTMLInputElement).files!));
$('drop-classifier').onchange = guard(async () => {
  state.classifier = await loadDroppedModel(files('drop-classifier'));
  refresh();
});
$('drop-encoder').onchange = guard(async () => {
  setMoco(mocoFromEncoder(await loadDroppedModel(files('drop-encoder')), state.bank));
  refresh();
});
$('drop-data').onchange = guard(async () => {
  setBank(await readImageFile(files('drop-data')[0]));
  refresh();
});
guard(start)();

const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(2)} s`;
