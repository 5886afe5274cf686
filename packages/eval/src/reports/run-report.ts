import type { CorruptionResult } from '../evaluate-corruptions';
import type { RobustnessResult } from '../evaluate-robustness';

/** Everything a report says about one run: what was trained and how, and what was measured (`report.json`). */
export interface RunReport {
  schema: 'moco-robust/report@1';
  /** Short display name of the run (a legend entry), e.g. `MoCo-v2 (MoCo-PGD-10)`. */
  name: string;
  /** Pre-training method: `moco-v1`, `moco-v2`, a plugin name, or `none` (adversarial training from scratch). */
  method: string;
  /** Pre-training attack, e.g. `MoCo-PGD-10`, `MoCo-FGSM`, `none`. */
  pretrainAttack?: string;
  /** Encoder architecture, e.g. `resnet18`. */
  model?: string;
  /** `paper` or `standard` settings. */
  protocol?: string;
  /** tfjs backend the numbers were measured on. */
  backend?: string;
  /** ISO time the report was made. */
  createdAt: string;
  robustness?: RobustnessResult;
  corruptions?: CorruptionResult;
  /** Free-form remarks shown in the report (e.g. a skipped corruption, a reduced scale). */
  notes: string[];
}

/** A {@link RunReport} with its schema tag, creation time and notes filled in. */
export function createRunReport(
  fields: Omit<RunReport, 'schema' | 'createdAt' | 'notes'> & { createdAt?: string; notes?: string[] },
): RunReport {
  return { schema: 'moco-robust/report@1', createdAt: new Date().toISOString(), notes: [], ...fields };
}

/** One row of the paper's Table 1: robust accuracy (%) under FGSM and PGD for ResNet-18 and ResNet-50. */
export interface QuotedResult {
  method: string;
  fgsm: { resnet18: number; resnet50: number };
  pgd: { resnet18: number; resnet50: number };
  /** Where the paper took its PGD numbers from (marked + / * there). */
  pgdSource: string;
}

/**
 * The paper's Table 1 (robust accuracy %, quoted — not reproduced here). Its PGD numbers for
 * Jigsaw/Rotation/Selfie come from Chen et al. (CVPR 2020) and RoCL's from the RoCL paper.
 */
export const PAPER_TABLE_1: readonly QuotedResult[] = [
  {
    method: 'Jigsaw',
    fgsm: { resnet18: 74.1, resnet50: 71.9 },
    pgd: { resnet18: 46.78, resnet50: 49.61 },
    pgdSource: 'Chen et al. 2020',
  },
  {
    method: 'Rotation',
    fgsm: { resnet18: 79.8, resnet50: 81.56 },
    pgd: { resnet18: 47.56, resnet50: 50.4 },
    pgdSource: 'Chen et al. 2020',
  },
  {
    method: 'Selfie',
    fgsm: { resnet18: 82.2, resnet50: 80.37 },
    pgd: { resnet18: 48.34, resnet50: 51.05 },
    pgdSource: 'Chen et al. 2020',
  },
  {
    method: 'RoCL',
    fgsm: { resnet18: 81.32, resnet50: 68.88 },
    pgd: { resnet18: 49.66, resnet50: 52.44 },
    pgdSource: 'Kim et al. 2020',
  },
  {
    method: 'MoCo',
    fgsm: { resnet18: 69.9, resnet50: 86.23 },
    pgd: { resnet18: 51.4, resnet50: 52.4 },
    pgdSource: 'the paper',
  },
  {
    method: 'MoCo-v2',
    fgsm: { resnet18: 73.41, resnet50: 91.18 },
    pgd: { resnet18: 50.4, resnet50: 51.24 },
    pgdSource: 'the paper',
  },
];

/** `0.4043` → `40.43`. */
export const percent = (value: number | undefined, digits = 2): string =>
  value === undefined || Number.isNaN(value) ? '–' : (100 * value).toFixed(digits);
