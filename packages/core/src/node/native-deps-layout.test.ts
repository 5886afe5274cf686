import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layOutNativeDeps, NATIVE_LIBRARY_LINKS } from './native-deps-layout';
import { writeFakeWheel } from './test-helpers/write-fake-wheel';
import { extractWheel, findCachedWheel, wheelFilePrefix } from './native-wheel';

const root = mkdtempSync(join(tmpdir(), 'moco-native-layout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('wheel extraction and the deps/ layout', () => {
  it('names and finds wheels the way pip writes them', async () => {
    expect(wheelFilePrefix('tensorflow-cpu', '2.21.0')).toBe('tensorflow_cpu-2.21.0-');
    expect(wheelFilePrefix('tensorflow', '2.21.0')).toBe('tensorflow-2.21.0-');
    const wheels = join(root, 'wheels');
    mkdirSync(wheels);
    writeFakeWheel(join(wheels, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'));
    expect(await findCachedWheel(wheels, 'tensorflow-cpu', '2.21.0')).toBe(
      join(wheels, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'),
    );
    expect(await findCachedWheel(wheels, 'tensorflow', '2.21.0')).toBeUndefined(); // the GPU wheel is another file
    expect(await findCachedWheel(wheels, 'tensorflow-cpu', '2.20.0')).toBeUndefined();
    expect(await findCachedWheel(join(root, 'absent'), 'tensorflow-cpu', '2.21.0')).toBeUndefined();
  });

  it.each([['python3'], ['no-such-python-here']])(
    'extracts only the libraries and headers (with %s, else unzip) and lays out deps/ with the linked names',
    async (python) => {
      const wheel = writeFakeWheel(join(root, `fake-${python}.whl`));
      const extracted = await extractWheel(wheel, join(root, `extracted-${python}`), python);
      expect(existsSync(join(extracted, 'tensorflow', 'python'))).toBe(false);
      expect(existsSync(join(`${extracted}.part-${process.pid}`))).toBe(false);

      const packageDir = join(root, `package-${python}`);
      mkdirSync(join(packageDir, 'deps', 'stale'), { recursive: true });
      const layout = await layOutNativeDeps(extracted, packageDir);
      expect(existsSync(join(packageDir, 'deps', 'stale'))).toBe(false);
      expect(readlinkSync(layout.includeDir)).toBe(join(extracted, 'tensorflow', 'include'));
      expect(readFileSync(join(layout.includeDir, 'tensorflow', 'c', 'eager', 'c_api.h'), 'utf8')).toBe(
        '/* eager c api */',
      );
      expect(layout.libraries).toBe('linked'); // same file system: hard links, no 800 MB copy
      for (const name of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
        expect(statSync(join(layout.libDir, name)).ino).toBe(statSync(join(extracted, 'tensorflow', name)).ino);
      }
      expect(NATIVE_LIBRARY_LINKS.map(([link]) => link)).toEqual([
        'libtensorflow.so',
        'libtensorflow.so.2',
        'libtensorflow_framework.so',
      ]);
      for (const [link, target] of NATIVE_LIBRARY_LINKS) {
        expect(readlinkSync(join(layout.libDir, link))).toBe(target); // relative, so the package can move
        expect(readFileSync(join(layout.libDir, link), 'utf8')).toBe(`fake ${target}`);
      }
    },
  );

  it('refuses a wheel without the C library, naming what is missing, and leaves no partial extraction', async () => {
    const wheel = writeFakeWheel(join(root, 'no-cc.whl'), ['libtensorflow_framework.so.2']);
    const out = join(root, 'extracted-no-cc');
    await expect(extractWheel(wheel, out)).rejects.toThrow(/tensorflow\/libtensorflow_cc\.so\.2/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.part-${process.pid}`)).toBe(false);
    await expect(extractWheel(join(root, 'absent.whl'), out)).rejects.toThrow(/absent\.whl does not exist/);
    await expect(layOutNativeDeps(join(root, 'absent'), join(root, 'package-x'))).rejects.toThrow(
      /libtensorflow_cc\.so\.2 is missing/,
    );
  });
});
