import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The two shared libraries a TensorFlow wheel ships under `tensorflow/` that hold the C and eager C APIs. */
export const WHEEL_LIBRARIES = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'] as const;

/** The file-name prefix of a wheel, e.g. `tensorflow_cpu-2.21.0-` (pip normalises `-` in names to `_`). */
export function wheelFilePrefix(wheelName: string, tensorflowVersion: string): string {
  return `${wheelName.replaceAll('-', '_')}-${tensorflowVersion}-`;
}

/** Returns the path of a cached `<wheel>-<version>-*.whl` in `wheelDir`, or undefined. */
export async function findCachedWheel(
  wheelDir: string,
  wheelName: string,
  tensorflowVersion: string,
): Promise<string | undefined> {
  if (!existsSync(wheelDir)) return undefined;
  const prefix = wheelFilePrefix(wheelName, tensorflowVersion);
  const found = (await readdir(wheelDir)).filter((file) => file.startsWith(prefix) && file.endsWith('.whl')).sort();
  return found.length > 0 ? join(wheelDir, found[found.length - 1]!) : undefined;
}

/**
 * Downloads `<wheelName>==<version>` with `pip download --no-deps --only-binary=:all:` into `wheelDir`.
 * The libraries in a wheel do not depend on the Python version, so when no wheel matches the running
 * Python, it retries for CPython 3.11. Throws the failing command's error (with its output).
 */
export async function downloadWheel(
  python: string,
  wheelName: string,
  tensorflowVersion: string,
  wheelDir: string,
): Promise<string> {
  await mkdir(wheelDir, { recursive: true });
  const base = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    `${wheelName}==${tensorflowVersion}`,
    '-d',
    wheelDir,
  ];
  try {
    await run(python, base, { maxBuffer: 1 << 26 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
    await run(python, [...base, '--python-version', '3.11'], { maxBuffer: 1 << 26 }).catch((retry: unknown) => {
      throw Object.assign(retry as Error, { first: error });
    });
  }
  const wheel = await findCachedWheel(wheelDir, wheelName, tensorflowVersion);
  if (!wheel)
    throw new Error(
      `pip reported success but no ${wheelFilePrefix(wheelName, tensorflowVersion)}*.whl is in ${wheelDir}`,
    );
  return wheel;
}

const EXTRACT_SCRIPT = `
import sys, zipfile
wheel, out, libraries = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    missing = [name for name in libraries if 'tensorflow/' + name not in names]
    if missing:
        sys.exit('the wheel has no ' + ', '.join('tensorflow/' + name for name in missing))
    headers = [n for n in names if n.startswith('tensorflow/include/')]
    archive.extractall(out, ['tensorflow/' + name for name in libraries] + headers)
`;

/**
 * Extracts `tensorflow/libtensorflow_cc.so.2`, `tensorflow/libtensorflow_framework.so.2` and
 * `tensorflow/include/` from a wheel (a zip) into `outDir`, with Python's zipfile or, when `python` is
 * missing, `unzip`. Writes into a temporary sibling and renames it, so an interrupted extraction never
 * looks complete. Returns `outDir`, whose `tensorflow/` then holds the libraries and headers.
 */
export async function extractWheel(wheel: string, outDir: string, python = 'python3'): Promise<string> {
  if (!existsSync(wheel)) throw new Error(`the wheel ${wheel} does not exist`);
  const partial = `${outDir}.part-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await run(python, ['-c', EXTRACT_SCRIPT, wheel, partial, ...WHEEL_LIBRARIES], { maxBuffer: 1 << 26 }).catch(
      async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await run(
          'unzip',
          [
            '-q',
            '-o',
            wheel,
            ...WHEEL_LIBRARIES.map((name) => `tensorflow/${name}`),
            'tensorflow/include/*',
            '-d',
            partial,
          ],
          { maxBuffer: 1 << 26 },
        );
      },
    );
    const missing = WHEEL_LIBRARIES.filter((name) => !existsSync(join(partial, 'tensorflow', name)));
    if (missing.length > 0)
      throw new Error(`the wheel has no ${missing.map((name) => `tensorflow/${name}`).join(', ')}`);
    if (!existsSync(join(partial, 'tensorflow', 'include', 'tensorflow', 'c', 'c_api.h')))
      throw new Error('the wheel has no tensorflow/include/tensorflow/c/c_api.h');
    await rm(outDir, { recursive: true, force: true });
    await rename(partial, outDir);
    return outDir;
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}
