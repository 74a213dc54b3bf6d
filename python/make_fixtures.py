"""Writes FrEIA reference fixtures (freia-reference/1, docs/freia-reference-format.md)
for modules added after the first 63: LinearSpline and Inverse.

Run with FrEIA's source on the path (it is not part of this repository):

    FREIA_SRC=/path/to/FrEIA python3 python/make_fixtures.py test/fixtures/freia

Each fixture is a FrEIA SequenceINN of one or more blocks with `mlp` or
`conv3x3` subnets (Linear/Conv2d, ReLU, Linear/Conv2d; PyTorch's default
initialisation, seeded), two recorded evaluations (batch 4 and 2, inputs
N(0, 2^2) so that points fall inside and outside the splines' domain), the
per-node outputs of each case and the CRC-32 of every parameter: all of it
written by `freia_export` (python/freia_export.py), which reads each module's
arguments off the module (so `split_len` is the number of channels FrEIA
resolved it to).
"""
import json
import os
import sys

sys.path.insert(0, os.environ.get("FREIA_SRC", "."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import FrEIA.framework as Ff  # noqa: E402
import FrEIA.modules as Fm  # noqa: E402
from FrEIA.modules.inverse import Inverse  # noqa: E402  (not in FrEIA.modules.__all__)
from freia_export import document  # noqa: E402

HIDDEN = 32


def mlp(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, c_out))


def conv3x3(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, HIDDEN, 3, padding=1), nn.ReLU(), nn.Conv2d(HIDDEN, c_out, 3, padding=1))


def fixture(name, shape, cond_shapes, blocks, seed):
    """blocks: list of (module class or ("Inverse", class), args without subnet, subnet or None, condition indices)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    inn = Ff.SequenceINN(*shape)
    for cls, args, subnet, cond in blocks:
        extra = {"subnet_constructor": subnet} if subnet else {}
        if isinstance(cls, tuple):
            # ("Inverse", wrapped class): FrEIA's Inverse takes the wrapped module itself.
            inn.append(Inverse(cls[1]([tuple(shape)], **args, **extra)))
        elif cond:
            inn.append(cls, cond=cond[0], cond_shape=tuple(cond_shapes[cond[0]]), **args, **extra)
        else:
            inn.append(cls, **args, **extra)
    runs = []
    for batch in (4, 2):
        runs.append(([torch.randn(batch, *shape) * 2], [torch.randn(batch, *s) for s in cond_shapes]))
    (xs, cs), more = runs[0], runs[1:]
    return document(inn, inputs=xs, conditions=cs, name=name, cases=more)


SPLINE = {"bins": 10, "min_bin_sizes": [0.1, 0.1], "default_domain": [-3.0, 3.0, -3.0, 3.0], "identity_tails": False, "domain_clamping": None}

FIXTURES = {
    "linear_spline": ([7], [], [(Fm.LinearSpline, SPLINE, mlp, [])] * 2, 1),
    "linear_spline_identity_tails": ([5], [], [(Fm.LinearSpline, {**SPLINE, "bins": 6, "identity_tails": True, "domain_clamping": 4.0}, mlp, [])], 2),
    "linear_spline_cond": ([6], [[3]], [(Fm.LinearSpline, {**SPLINE, "bins": 4, "min_bin_sizes": [0.2, 0.05], "default_domain": [-2.0, 3.0, -4.0, 1.0], "split_len": 0.25}, mlp, [0])], 3),
    "linear_spline_conv": ([3, 4, 4], [], [(Fm.LinearSpline, {**SPLINE, "bins": 5}, conv3x3, [])], 4),
    "inverse_glow": ([5], [], [(("Inverse", Fm.GLOWCouplingBlock), {"clamp": 1.5, "clamp_activation": "ATAN", "split_len": 0.5}, mlp, []),
                               (Fm.GLOWCouplingBlock, {"clamp": 1.5, "clamp_activation": "ATAN", "split_len": 0.5}, mlp, [])], 5),
    "inverse_rq_spline": ([4], [], [(("Inverse", Fm.RationalQuadraticSpline), {**SPLINE, "bins": 6}, mlp, [])], 6),
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, (shape, cond_shapes, blocks, seed) in FIXTURES.items():
        doc = fixture(name, shape, cond_shapes, blocks, seed)
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(doc, f)
        print(f"wrote {name}.json")
