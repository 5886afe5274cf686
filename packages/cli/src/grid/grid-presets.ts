import type { GridAttack } from './grid-spec';

/** The spec keys a grid preset fills in (a spec file's or the flags' own values win). */
export interface GridPresetDefaults {
  name: string;
  methods: string[];
  attacks: GridAttack[];
  methodAttacks: Record<string, GridAttack[]>;
  seeds: number[];
}

const BOTH: GridAttack[] = ['moco-pgd', 'moco-fgsm'];

/**
 * Grid presets: `--preset study` is the paper's whole Table 1 grid at the `study` size — the six methods and the
 * `none` control; MoCo-v1 and MoCo-v2 under MoCo-PGD, MoCo-FGSM and clean pre-training (the control the paper
 * lacks); Jigsaw, Rotation and Selfie under PGD and FGSM on their own loss; RoCL under its own instance-wise attack
 * (it ignores the engine's); seeds 0–2; one architecture — 14 cells per seed, all with the same budget.
 */
export const GRID_PRESETS: Readonly<Record<string, GridPresetDefaults>> = {
  study: {
    name: "The paper's Table 1 at study scale (CIFAR-10 sample, 2-core CPU)",
    methods: ['none', 'moco-v1', 'moco-v2', 'jigsaw', 'rotation', 'selfie', 'rocl'],
    attacks: BOTH,
    methodAttacks: { 'moco-v1': [...BOTH, 'none'], 'moco-v2': [...BOTH, 'none'], rocl: ['moco-pgd'] },
    seeds: [0, 1, 2],
  },
};
