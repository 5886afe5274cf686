import { MocoRobustError, Rng } from '@moco-robust/core';
import { describe, expect, it } from 'vitest';
import { ALL_CORRUPTIONS } from './corruption';
import type { CorruptionName } from './corruption';
import { corruptImages, corruptions } from './registry';
import type { CorruptImagesEvent } from './registry';

const COUNT = 4;
const images = Uint8Array.from({ length: COUNT * 3072 }, (_, i) => (i * 7919 + (i >> 7) * 31) % 256);

describe('corruption registry', () => {
  it('holds all 19 corruptions under their release names', () => {
    expect(Object.keys(corruptions).sort()).toEqual([...ALL_CORRUPTIONS].sort());
    for (const name of ALL_CORRUPTIONS) expect(corruptions[name].name).toBe(name);
  });
});

describe('corruptImages', () => {
  const random: CorruptionName[] = ['gaussian_noise', 'glass_blur', 'snow', 'fog', 'elastic_transform', 'spatter'];

  it('yields one block per corruption × severity, in order, with the right size', () => {
    const blocks = [...corruptImages(images, COUNT, { seed: 1, corruptions: ['contrast', 'fog'], severities: [2, 5] })];
    expect(blocks.map((b) => `${b.corruption}/${b.severity}`)).toEqual(['contrast/2', 'contrast/5', 'fog/2', 'fog/5']);
    for (const block of blocks) expect(block.images.length).toBe(COUNT * 3072);
    expect(blocks[0].images.subarray(3072, 6144)).toEqual(
      corruptions.contrast.apply(images.subarray(3072, 6144), 2, { rng: Rng.fromSeed(0) }),
    );
  });

  it('splits each corruption × severity into blocks of blockImages images, same bytes, one event each', () => {
    const options = {
      seed: 7,
      corruptions: ['gaussian_noise', 'contrast'] as CorruptionName[],
      severities: [1, 4] as const,
    };
    const whole = [...corruptImages(images, COUNT, options)];
    const events: string[] = [];
    const blocks = [
      ...corruptImages(images, COUNT, {
        ...options,
        blockImages: 3,
        onEvent: (e) => events.push(`${e.type} ${e.corruption}`),
      }),
    ];
    const perBlock = Math.ceil(COUNT / 3); // 3 + 1 images
    expect(blocks).toHaveLength(whole.length * perBlock);
    for (const [k, block] of whole.entries()) {
      const parts = blocks.slice(k * perBlock, (k + 1) * perBlock);
      expect(parts.map((p) => p.firstImage)).toEqual(Array.from({ length: perBlock }, (_, j) => 3 * j));
      expect(parts.every((p) => p.corruption === block.corruption && p.severity === block.severity)).toBe(true);
      const joined = new Uint8Array(COUNT * 3072);
      for (const part of parts) joined.set(part.images, part.firstImage * 3072);
      expect(joined, `${block.corruption}/${block.severity}`).toEqual(block.images);
    }
    expect(events).toEqual([
      'corruption-end gaussian_noise',
      'corruption-end gaussian_noise',
      'corruption-end contrast',
      'corruption-end contrast',
    ]);
    expect(() => [...corruptImages(images, COUNT, { seed: 1, blockImages: 0 })]).toThrow(/blockImages/);
  });

  it('is deterministic per (seed, corruption, severity, image index), whatever the batch split', () => {
    const whole = [...corruptImages(images, COUNT, { seed: 42, corruptions: random, severities: [3] })];
    const tail = [
      ...corruptImages(images.subarray(2 * 3072), COUNT - 2, {
        seed: 42,
        corruptions: random,
        severities: [3],
        firstIndex: 2,
      }),
    ];
    const again = [...corruptImages(images, COUNT, { seed: 42, corruptions: random, severities: [3] })];
    const other = [...corruptImages(images, COUNT, { seed: 43, corruptions: random, severities: [3] })];
    for (let k = 0; k < random.length; k++) {
      expect(tail[k].images, random[k]).toEqual(whole[k].images.subarray(2 * 3072));
      expect(again[k].images, random[k]).toEqual(whole[k].images);
      expect(other[k].images, random[k]).not.toEqual(whole[k].images);
    }
  });

  it('skips frost without textures with an event, or throws the typed error when asked', () => {
    const events: CorruptImagesEvent[] = [];
    const blocks = [
      ...corruptImages(images, COUNT, {
        seed: 0,
        corruptions: ['frost', 'brightness'],
        severities: [1],
        onEvent: (e) => events.push(e as CorruptImagesEvent),
      }),
    ];
    expect(blocks.map((b) => b.corruption)).toEqual(['brightness']);
    expect(events[0]).toMatchObject({ type: 'corruption-skipped', corruption: 'frost' });
    expect(events[1]).toMatchObject({ type: 'corruption-end', corruption: 'brightness', severity: 1, images: COUNT });
    let caught: unknown;
    try {
      [...corruptImages(images, COUNT, { seed: 0, corruptions: ['frost'], onMissingFrostTextures: 'error' })];
    } catch (error) {
      caught = error;
    }
    expect(MocoRobustError.isInstance(caught) && caught.code).toBe('missing-frost-textures');
  });

  it('rejects bad arguments by name', () => {
    expect(() => corruptImages(images, COUNT + 1, { seed: 0 }).next()).toThrow(/'images'/);
    expect(() => corruptImages(images, COUNT, { seed: 0, corruptions: ['frozen' as CorruptionName] }).next()).toThrow(
      /'corruptions'/,
    );
    expect(() => corruptImages(images, COUNT, { seed: 0, severities: [6 as 1] }).next()).toThrow(/'severities'/);
  });
});
