import type { JsonValue } from '@moco-robust/core';
import { useFastestBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkResumeIsExact } from './check-resume-is-exact';
import { flipTask } from './flip-task.fixture';

beforeAll(async () => {
  await useFastestBackend();
});

const data = { images: Uint8Array.from({ length: 64 * 3072 }, (_, i) => (i * 2654435761) >>> 24), count: 64 };

describe('checkResumeIsExact', () => {
  it('passes a task whose run resumes bit for bit, comparing the encoder and the heads', async () => {
    const report = await checkResumeIsExact({ createTask: () => flipTask(), data });
    expect(report).toMatchObject({ totalSteps: 8, abortedAt: 3 });
    expect(report.comparedTensors).toBeGreaterThan(10);
  });

  it('catches a task whose state() does not hold all it changes while training', async () => {
    // counts its steps but saves nothing: the resumed run's count misses the 3 steps before the abort
    const counting = () => {
      let steps = 0;
      return {
        ...flipTask(),
        afterStep: () => void steps++,
        state: (): JsonValue => ({ task: 'flip', steps: steps }),
        loadState: () => undefined,
      };
    };
    await expect(checkResumeIsExact({ createTask: counting, data })).rejects.toThrow(
      /task state: expected the uninterrupted .*\{"task":"flip","steps":8\}, got \{"task":"flip","steps":5\}/,
    );
  });

  it('catches a task that draws from a random stream the checkpoint does not hold', async () => {
    const unseeded = () => {
      const task = flipTask();
      let calls = 0; // a private stream: restarts at 0 after a resume
      return {
        ...task,
        makeBatch: (
          images: Parameters<typeof task.makeBatch>[0],
          rng: Parameters<typeof task.makeBatch>[1],
          c: Parameters<typeof task.makeBatch>[2],
        ) => task.makeBatch(images, calls++ % 2 ? rng : rng.fork('other'), c),
      };
    };
    await expect(checkResumeIsExact({ createTask: unseeded, data })).rejects.toThrow(
      /encoder weights: expected the uninterrupted run's weight \d+ exactly .*Save all training state/,
    );
  });
});
