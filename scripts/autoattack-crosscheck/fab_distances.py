"""Runs the original FAB-T (github.com/fra31/auto-attack's FABAttack_PT, its source on PYTHONPATH) with AutoAttack's
standard settings on a saved tfjs layers model converted by tfjs_to_torch.py, on the sample's first test images, and
prints JSON: per correctly classified image, the L∞ distance of the adversarial example found (null where none).
A large epsilon (default 255/255) keeps every adversarial example it finds, so the distances compare FAB itself.
Usage: python fab_distances.py <model dir> [epsilon*255=255] [count=512] [steps=100]"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_to_torch import load  # noqa: E402
from reference import correctly_classified  # noqa: E402
from autoattack.fab_pt import FABAttack_PT  # noqa: E402


def main():
    args = sys.argv[1:]
    directory = args[0]
    epsilon = float(args[1] if len(args) > 1 else 255) / 255
    count = int(args[2]) if len(args) > 2 else 512
    steps = int(args[3]) if len(args) > 3 else 100
    torch.set_num_threads(1)
    model = load(directory)
    x, y, index = correctly_classified(model, count)
    fab = FABAttack_PT(model, norm='Linf', n_restarts=1, n_iter=steps, eps=epsilon, seed=0, targeted=True,
                       n_target_classes=9, device='cpu')
    started = time.time()
    adversarial = fab.perturb(x[index], y[index])
    seconds = time.time() - started
    with torch.no_grad():
        fooled = model(adversarial).argmax(1) != y[index]
    distance = (adversarial - x[index]).abs().reshape(len(index), -1).max(1)[0]
    print(json.dumps({'implementation': 'fra31/auto-attack', 'epsilon': epsilon, 'steps': steps,
                      'indices': index.tolist(),
                      'distances': [d if f else None for d, f in zip(distance.tolist(), fooled.tolist())],
                      'seconds': seconds}))


if __name__ == '__main__':
    main()
