import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSystemError } from '../errors/errors';
import { MocoRobustError } from '../errors/moco-robust-error';
import { atomicWriteFile } from './atomic-write';

describe('atomicWriteFile', () => {
  it('creates the folder, writes, replaces and leaves no temporary file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mr-atomic-'));
    const path = join(root, 'a', 'b', 'report.json');
    await atomicWriteFile(path, '{"v":1}\n');
    expect(await readFile(path, 'utf8')).toBe('{"v":1}\n');
    await atomicWriteFile(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['report.json']);
  });

  it('fails with a FileSystemError naming the path when a part of it is a file (ENOTDIR)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mr-atomic-'));
    await writeFile(join(root, 'file'), 'x');
    const path = join(root, 'file', 'report.json');
    const error = await atomicWriteFile(path, 'y').catch((e: unknown) => e);
    expect(MocoRobustError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(FileSystemError);
    expect((error as FileSystemError).errno).toBe('ENOTDIR');
    expect((error as FileSystemError).path).toBe(path);
    expect((error as Error).message).toContain(path);
    expect(await readFile(join(root, 'file'), 'utf8')).toBe('x');
  });

  it('fails with a FileSystemError when a folder stands where the file goes (EISDIR), temporary removed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mr-atomic-'));
    await mkdir(join(root, 'report.json'));
    const error = await atomicWriteFile(join(root, 'report.json'), 'y').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileSystemError);
    expect((error as FileSystemError).path).toBe(join(root, 'report.json'));
    expect(await readdir(root)).toEqual(['report.json']);
  });

  it('passes a FileSystemError through FileSystemError.from unchanged', () => {
    const error = new FileSystemError({ path: '/x/y', errno: 'ENOSPC' });
    expect(FileSystemError.from(error, '/other')).toBe(error);
  });
});
