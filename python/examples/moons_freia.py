"""Trains FrEIA's README moons INN in PyTorch and exports it for freia-ts.

The seed's recipe: 8 AllInOneBlocks on 2-D points (subnets Linear(1, 512)-
ReLU-Linear(512, 2), soft permutations), Adam at 1e-3, batches of 100 fresh
two-moons points (noise 0.05, scikit-learn's geometry), gradients clipped to
norm 5. Then `freia_export.export` writes the trained network with two
recorded evaluations, which `freia-ts verify` and the `freia-import` example
re-run:

    FREIA_SRC=/path/to/FrEIA python3 python/examples/moons_freia.py \
        --steps 2000 --out examples/data/moons-freia.json
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.environ.get('FREIA_SRC', ''))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import FrEIA.framework as Ff  # noqa: E402
import FrEIA.modules as Fm  # noqa: E402
from freia_export import export  # noqa: E402


def moons(n, noise, rng):
    """scikit-learn's make_moons: two interleaving half circles, shuffled, with Gaussian noise."""
    outer = n // 2
    inner = n - outer
    t_out = np.linspace(0, math.pi, outer)
    t_in = np.linspace(0, math.pi, inner)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1), np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    x += rng.normal(scale=noise, size=x.shape)
    return torch.tensor(x[rng.permutation(n)], dtype=torch.float32)


def subnet(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 512), nn.ReLU(), nn.Linear(512, c_out))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    inn = Ff.SequenceINN(2)
    for _ in range(8):
        inn.append(Fm.AllInOneBlock, subnet_constructor=subnet, permute_soft=True)
    optimizer = torch.optim.Adam(inn.parameters(), lr=1e-3)
    started = time.time()
    for step in range(args.steps):
        x = moons(100, 0.05, rng)
        z, log_det = inn(x)
        loss = (0.5 * (z ** 2).sum(1) + math.log(2 * math.pi) - log_det).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(inn.parameters(), 5)
        optimizer.step()
    inn.eval()
    with torch.no_grad():
        held_out = moons(10000, 0.05, rng)
        z, log_det = inn(held_out)
        nll = (0.5 * (z ** 2).sum(1) + math.log(2 * math.pi) - log_det).mean().item()
    export(inn, args.out, inputs=[moons(4, 0.05, rng)], cases=[([moons(2, 0.05, rng)], None)], name='moons INN (FrEIA, trained)',
           notes=[f'trained in PyTorch for {args.steps} steps (seed {args.seed}); held-out NLL {nll:.4f} nats on 10,000 points'])
    print(f'held-out NLL {nll:.4f} nats; {time.time() - started:.1f} s; wrote {args.out}')


if __name__ == '__main__':
    main()
