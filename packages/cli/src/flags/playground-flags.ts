import type { FlagSpec } from '../parse-flags';

/** `moco-robust playground`'s flags. */
export const PLAYGROUND_FLAGS = {
  from: {
    type: 'string',
    description:
      'the classifier: a demo or finetune run, a checkpoint, or a model.json (default: the page asks for files)',
  },
  encoder: {
    type: 'string',
    description:
      'the encoder for the label-free attacks: a pretrain run or checkpoint (query + key encoder, heads, queue) ' +
      "or a model.json; default: the --from demo run's pretrain/",
  },
  data: {
    type: 'string',
    description: 'CIFAR-10 binary files (folder, its parent or the .tar.gz); default $MOCO_ROBUST_DATA or the cache',
  },
  images: { type: 'string', description: 'test images offered in the page', default: '64' },
  port: { type: 'string', description: 'port on 127.0.0.1 (0: any free one)', default: '8787' },
  json: { type: 'boolean', description: 'print {"url": …} as one JSON line on stdout' },
} satisfies FlagSpec;

/** `moco-robust playground --help`: what the command does and writes. */
export const PLAYGROUND_HELP =
  "Serves the browser playground on 127.0.0.1: attack a run's classifier with FGSM, PGD and the label-free " +
  'MoCo-FGSM / MoCo-PGD on its test images, in the browser (webgpu, webgl, wasm or cpu). ' +
  'Nothing leaves the machine.';
