// Test support (not exported): fake TensorFlow wheels for the native-build tests.
import { spawnSync } from 'node:child_process';

/**
 * Writes a zip shaped like a TensorFlow wheel (tiny fake libraries, a header, unrelated files) with Python's zipfile.
 */
export function writeFakeWheel(
  path: string,
  members: string[] = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'],
): string {
  const script = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name in sys.argv[2:]:
        z.writestr('tensorflow/' + name, 'fake ' + name)
    z.writestr('tensorflow/include/tensorflow/c/c_api.h', '/* c api */')
    z.writestr('tensorflow/include/tensorflow/c/eager/c_api.h', '/* eager c api */')
    z.writestr('tensorflow/python/_pywrap_tensorflow_internal.so', 'not wanted')
    z.writestr('tensorflow_cpu-2.21.0.dist-info/METADATA', 'Name: tensorflow-cpu')
`;
  const result = spawnSync('python3', ['-c', script, path, ...members], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not write the fake wheel: ${result.stderr}`);
  return path;
}
