import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../errors/errors';

/** The file `buildNativeBackend` compiles `native/onednn-convolution.cc` into, in tfjs-node's `deps/`. */
export const ONEDNN_CONVOLUTION_ADDON = 'onednn-convolution.node';

const requireFromHere = createRequire(import.meta.url);

/** The environment variable that picks the native CPU backend's convolutions: `onednn` (default) or `tensorflow`. */
export const CONVOLUTION_VARIABLE = 'MOCO_ROBUST_CONVOLUTION';

/** The built addon's path, or why it is not used (throws only for a wrong {@link CONVOLUTION_VARIABLE}). */
function addonPath(): { path: string } | { missing: string } {
  const choice = process.env[CONVOLUTION_VARIABLE];
  if (choice === 'tensorflow') return { missing: `${CONVOLUTION_VARIABLE}=tensorflow` };
  if (choice !== undefined && choice !== '' && choice !== 'onednn')
    throw new InvalidArgumentError({
      argument: CONVOLUTION_VARIABLE,
      expected: 'onednn or tensorflow',
      received: choice,
    });
  let packageDir: string;
  try {
    packageDir = dirname(requireFromHere.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return { missing: '@tensorflow/tfjs-node not found' };
  }
  const path = join(packageDir, 'deps', ONEDNN_CONVOLUTION_ADDON);
  return existsSync(path) ? { path } : { missing: `${ONEDNN_CONVOLUTION_ADDON} not built` };
}

/**
 * Before tfjs-node's binding loads: when the oneDNN convolutions will be used, TensorFlow's own oneDNN rewrites of its
 * other ops are turned off (`TF_ENABLE_ONEDNN_OPTS=0`, unless set), so matrix products, pooling and the rest run on
 * Eigen. TensorFlow's eager oneDNN wrappers cost 100–380 µs a call whatever the size (AutoAttack's few-image
 * batches: a 1-image forward of a small ResNet spent 1.6 ms in two matrix products and a pooling, 0.15 ms on Eigen;
 * the whole standard AutoAttack of 512 images took 41 s instead of 31 s); at batch 32 the two are within noise of each
 * other, and the convolution, the one op where TensorFlow's oneDNN mattered, is ours (docs/performance-notes.md #31).
 */
export function preferEigenBesideOneDnnConvolution(): void {
  if ('path' in addonPath()) process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
}

/**
 * Loads `@tensorflow/tfjs-node`'s built {@link ONEDNN_CONVOLUTION_ADDON} (after the binding, whose TensorFlow
 * library it registers its ops into): its oneDNN version, or why it is not used — {@link CONVOLUTION_VARIABLE} is
 * `tensorflow`, it was not built (no libdnnl when the binding was built) or it fails to load (e.g. libdnnl removed
 * since): TensorFlow's convolutions remain. Throws only for another value of the variable. Sets `OMP_WAIT_POLICY`
 * to `passive` unless it is set.
 */
export function loadOneDnnConvolution(): { version: string } | { missing: string } {
  const found = addonPath();
  if ('missing' in found) return found;
  const { path } = found;
  // OpenMP's threads (oneDNN's) would otherwise spin after each convolution on the cores TensorFlow's own pool needs
  // for the next op; libgomp reads this once, when oneDNN's library loads it
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    return { version: (requireFromHere(path) as { onednnVersion: string }).onednnVersion };
  } catch (error) {
    return { missing: `${path} failed to load: ${String((error as Error).message ?? error).split('\n')[0]}` };
  }
}

/**
 * The algorithm oneDNN runs for each forward convolution geometry made so far ("input [n, h, w, c], filter [kh, kw,
 * c, co], strides [sh, sw]: <implementation>"; Winograd's is `jit_wino_4x3`), or empty when the addon is not loaded.
 */
export function oneDnnForwardImplementations(): string[] {
  const found = addonPath();
  if ('missing' in found) return [];
  const addon = requireFromHere(found.path) as { forwardImplementations?: () => string[] };
  return addon.forwardImplementations?.() ?? [];
}
