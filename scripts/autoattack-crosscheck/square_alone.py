"""Runs the original Square Attack (github.com/fra31/auto-attack's SquareAttack, its source on PYTHONPATH) alone with
AutoAttack's standard settings (L∞, margin loss, 5,000 queries, p_init 0.8, schedule not rescaled, 1 restart) on a
saved tfjs layers model converted by tfjs_to_torch.py, on the correctly classified images among the sample's first
test images, and prints JSON: per image, the queries spent and whether it broke; the robust accuracy; the median
queries of the broken images. Usage: python square_alone.py <model dir> [epsilon*255=1] [count=512] [queries=5000]
[seed=0]"""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_to_torch import load  # noqa: E402
from reference import correctly_classified  # noqa: E402
from autoattack.square import SquareAttack  # noqa: E402


def main():
    args = sys.argv[1:]
    directory = args[0]
    epsilon = float(args[1] if len(args) > 1 else 1) / 255
    count = int(args[2]) if len(args) > 2 else 512
    budget = int(args[3]) if len(args) > 3 else 5000
    seed = int(args[4]) if len(args) > 4 else 0
    torch.set_num_threads(1)
    model = load(directory)
    x, y, index = correctly_classified(model, count)
    attack = SquareAttack(model, norm='Linf', n_queries=budget, eps=epsilon, p_init=.8, n_restarts=1, seed=seed,
                          loss='margin', resc_schedule=False, device='cpu')
    # perturb() returns only the images; attack_single_run() also returns the queries per image, so call it after
    # the same set-up perturb() does (hyper-parameters, then the seed)
    attack.init_hyperparam(x)
    torch.random.manual_seed(seed)
    started = time.time()
    queries, adversarial = attack.attack_single_run(x[index], y[index])
    seconds = time.time() - started
    with torch.no_grad():
        fooled = model(adversarial).argmax(1) != y[index]
    distance = (adversarial - x[index]).abs().max().item()
    broken = [q for q, f in zip(queries.tolist(), fooled.tolist()) if f]
    print(json.dumps({'implementation': 'fra31/auto-attack', 'epsilon': epsilon, 'queries': budget, 'seed': seed,
                      'correct': len(index), 'broken': len(broken),
                      'robustAccuracy': (len(index) - len(broken)) / count,
                      'medianQueries': statistics.median(broken) if broken else None,
                      'largestDistance': distance, 'indices': index.tolist(),
                      'spent': [int(q) for q in queries.tolist()], 'success': [int(f) for f in fooled.tolist()],
                      'seconds': seconds}))


if __name__ == '__main__':
    main()
