/** How an encoder was pre-trained, as a run's `config.json` records it (`pretrain.method`, `.attack`, `.steps`). */
export interface PretrainingRecord {
  /** `moco-v1`, `moco-v2`, a plugin (`rotation`, …), `none` (no pre-training) or `unknown` (a bare model.json). */
  method: string;
  /** `moco-pgd` / `moco-fgsm`: the label-free attack of MoCo, or PGD / FGSM on a baseline's own loss; or `none`. */
  attack: string;
  /** Attack steps (PGD). */
  steps: number;
}

const DISPLAY_NAMES: Record<string, string> = {
  none: 'none',
  unknown: 'unknown pre-training',
  'moco-v1': 'MoCo',
  'moco-v2': 'MoCo-v2',
  jigsaw: 'Jigsaw',
  rotation: 'Rotation',
  selfie: 'Selfie',
  rocl: 'RoCL',
};

/**
 * The report fields of a run from how its encoder was pre-trained: `method` as recorded, `pretrainAttack` named for
 * what ran — `MoCo-PGD-10` / `MoCo-FGSM` for MoCo, `PGD-10 on the rotation loss` for a baseline (its PGD on its own
 * pretext loss), RoCL's instance-wise PGD, `none` — and a display `name` for tables and chart legends.
 */
export function pretrainingLabels(record: PretrainingRecord): { method: string; pretrainAttack: string; name: string } {
  const { method, attack, steps } = record;
  const display = DISPLAY_NAMES[method] ?? method;
  if (method === 'none') return { method, pretrainAttack: 'none', name: 'none (adversarial training from scratch)' };
  if (method === 'unknown') return { method, pretrainAttack: 'unknown', name: display };
  let pretrainAttack: string;
  if (attack === 'none') pretrainAttack = 'none';
  else if (method === 'moco-v1' || method === 'moco-v2')
    pretrainAttack = attack === 'moco-fgsm' ? 'MoCo-FGSM' : `MoCo-PGD-${steps}`;
  else if (method === 'rocl') pretrainAttack = 'RoCL instance-wise PGD';
  else pretrainAttack = `${attack === 'moco-fgsm' ? 'FGSM' : `PGD-${steps}`} on the ${method} loss`;
  return {
    method,
    pretrainAttack,
    name: `${display} (${pretrainAttack === 'none' ? 'clean pre-training' : pretrainAttack})`,
  };
}
