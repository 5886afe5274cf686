"""Runs the original AutoAttack (github.com/fra31/auto-attack, its source on PYTHONPATH) on a saved tfjs layers model
converted by tfjs_to_torch.py, on the sample's first test images; prints JSON.
Usage: python reference.py <model dir> [epsilon*255=8] [attacks=apgd-ce,apgd-t | standard] [count=512] [seed=0]
(TORCH_THREADS=2: PyTorch on both cores; default 1)"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_to_torch import load  # noqa: E402
from autoattack import AutoAttack  # noqa: E402

SAMPLE = '/work/shared/datasets/cifar10-sample/cifar-10-batches-bin'


def read_cifar(file, count):
    raw = np.fromfile(os.path.join(SAMPLE, file), dtype=np.uint8)[: count * 3073].reshape(count, 3073)
    labels = raw[:, 0].astype(np.int64)
    images = raw[:, 1:].reshape(count, 3, 32, 32).astype(np.float32) / 255  # NCHW
    return torch.from_numpy(images), torch.from_numpy(labels)


def correctly_classified(model, count):
    """The first `count` test images and labels, and the indices of those `model` classifies correctly."""
    x, y = read_cifar('test_batch.bin', count)
    with torch.no_grad():
        correct = model(x).argmax(1) == y
    return x, y, correct.nonzero().squeeze(1)


def main():
    args = sys.argv[1:]
    directory = args[0]
    epsilon = float(args[1] if len(args) > 1 else 8) / 255
    attacks = args[2] if len(args) > 2 else 'apgd-ce,apgd-t'
    count = int(args[3]) if len(args) > 3 else 512
    seed = int(args[4]) if len(args) > 4 else 0
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '1')))  # 2: both cores, as tfjs-node uses
    model = load(directory)
    x, y = read_cifar('test_batch.bin', count)
    with torch.no_grad():
        first_logits = model(x[:4]).tolist()
    if attacks == 'standard':
        adversary = AutoAttack(model, norm='Linf', eps=epsilon, version='standard', device='cpu', seed=seed)
    else:
        adversary = AutoAttack(model, norm='Linf', eps=epsilon, version='custom', device='cpu', seed=seed,
                               attacks_to_run=attacks.split(','))
        # the standard version's settings for each attack
        adversary.apgd.n_restarts = 1
        adversary.apgd_targeted.n_target_classes = 9
        adversary.apgd_targeted.n_restarts = 1
        adversary.fab.n_restarts = 1
        adversary.fab.n_target_classes = 9
        adversary.square.n_queries = 5000
    started = time.time()
    x_adv = adversary.run_standard_evaluation(x, y, bs=250)
    with torch.no_grad():
        robust = (model(x_adv).argmax(1) == y).float().mean().item()
        clean = (model(x).argmax(1) == y).float().mean().item()
    print(json.dumps({'implementation': 'fra31/auto-attack', 'attacks': attacks, 'epsilon': epsilon,
                      'cleanAccuracy': clean, 'robustAccuracy': robust, 'seconds': time.time() - started,
                      'firstLogits': first_logits}))


if __name__ == '__main__':
    main()
