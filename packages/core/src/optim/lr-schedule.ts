import { InvalidArgumentError } from '../errors/errors';

/** A learning-rate schedule: the learning rate for a (0-based) step or epoch. */
export type LrSchedule = (step: number) => number;

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  baseLr: number;
  /** Length of the schedule (steps or epochs, the same unit the schedule is called with). */
  total: number;
  /** Linear warm-up length from `baseLr / warmup` … `baseLr`; default 0. */
  warmup?: number;
  /** Learning rate at the end; default 0. */
  minLr?: number;
}

/**
 * Cosine annealing (SGDR without restarts; MoCo's `--cos`): `min + (base − min)·½(1 + cos(π t / T))`, after an
 * optional
 * linear warm-up.
 */
export function cosineSchedule(options: CosineScheduleOptions): LrSchedule {
  const { baseLr, total, warmup = 0, minLr = 0 } = options;
  checkPositive('baseLr', baseLr);
  checkPositive('total', total);
  return (step) => {
    if (step < warmup) return (baseLr * (step + 1)) / warmup;
    const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
  };
}

/**
 * Step decay (PyTorch `MultiStepLR`): `baseLr · gamma^(number of milestones ≤ step)`; e.g. milestones [60, 80] of
 * 100
 * epochs, gamma 0.1.
 */
export function stepSchedule(options: {
  baseLr: number;
  milestones: number[];
  gamma?: number;
  warmup?: number;
}): LrSchedule {
  const { baseLr, milestones, gamma = 0.1, warmup = 0 } = options;
  checkPositive('baseLr', baseLr);
  return (step) => {
    if (step < warmup) return (baseLr * (step + 1)) / warmup;
    return baseLr * gamma ** milestones.filter((m) => step >= m).length;
  };
}

/** A constant learning rate. */
export function constantSchedule(lr: number): LrSchedule {
  checkPositive('lr', lr);
  return () => lr;
}

function checkPositive(argument: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new InvalidArgumentError({ argument, expected: 'a positive finite number', received: value });
}
