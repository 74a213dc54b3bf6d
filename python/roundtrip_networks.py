"""Builds a few FrEIA networks, exports each with `freia_export.export` and
recorded evaluations, for test/from-freia.test.ts to import and verify:

    FREIA_SRC=/path/to/FrEIA /usr/bin/python3 python/roundtrip_networks.py OUTDIR

Writes OUTDIR/<name>.json per network and OUTDIR/errors.json, the messages
of the exports that must fail (a subnet layer and a module the format cannot
describe). The networks cover a GraphINN with a split and conditions, a
SequenceINN of AllInOne blocks with nn.Sequential subnets (LeakyReLU, Tanh,
Dropout, BatchNorm1d) and a convolutional one (Conv2d, BatchNorm2d).
BatchNorm layers see a few training batches first, so their running
statistics are not the initial ones.
"""
import json
import os
import sys

sys.path.insert(0, os.environ.get("FREIA_SRC", "."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import FrEIA.framework as Ff  # noqa: E402
import FrEIA.modules as Fm  # noqa: E402
from freia_export import ExportError, export  # noqa: E402


def mlp(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 16), nn.ReLU(), nn.Linear(16, c_out))


def tanh_net(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 12), nn.Tanh(), nn.Linear(12, c_out), nn.Sigmoid())


def batchnorm_net(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, 24), nn.BatchNorm1d(24), nn.LeakyReLU(0.2), nn.Dropout(0.3),
                         nn.Linear(24, 24, bias=False), nn.Tanh(), nn.Linear(24, c_out))


def conv_net(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
                         nn.Conv2d(8, 8, (3, 1), padding=(1, 0), bias=False), nn.ReLU(), nn.Dropout(0.1),
                         nn.Conv2d(8, c_out, 1))


def warm_up(inn, shape, cond_shapes=(), graph=False):
    """A few training-mode passes (no optimiser), so BatchNorm's running statistics move; then random affine parts."""
    inn.train()
    with torch.no_grad():
        for _ in range(3):
            x = torch.randn(16, *shape) * 1.5 + 0.3
            cs = [torch.randn(16, *s) for s in cond_shapes]
            inn([x] if graph else x, c=cs if cs else None)
        for m in inn.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    inn.eval()


def graph_split_conditions():
    """in(6) -> GLOW(c0) -> PermuteRandom -> Split(2, 4): [2] -> RNVP? no: ActNorm -> z0; [4] -> RNVP(c0, c1) -> AllInOne(c1) -> z1."""
    x = Ff.InputNode(6, name="x")
    c0 = Ff.ConditionNode(3, name="c0")
    c1 = Ff.ConditionNode(2, name="c1")
    glow = Ff.Node(x, Fm.GLOWCouplingBlock, {"subnet_constructor": mlp, "clamp": 1.5}, conditions=c0, name="glow")
    perm = Ff.Node(glow, Fm.PermuteRandom, {"seed": 3}, name="perm")
    split = Ff.Node(perm, Fm.Split, {"section_sizes": [2]}, name="split")
    norm = Ff.Node(split.out0, Fm.ActNorm, {}, name="norm")
    rnvp = Ff.Node(split.out1, Fm.RNVPCouplingBlock, {"subnet_constructor": tanh_net, "clamp_activation": "TANH"}, conditions=[c0, c1], name="rnvp")
    aio = Ff.Node(rnvp, Fm.AllInOneBlock, {"subnet_constructor": mlp, "permute_soft": True}, conditions=c1, name="aio")
    z0 = Ff.OutputNode(norm, name="z0")
    z1 = Ff.OutputNode(aio, name="z1")
    inn = Ff.GraphINN([x, c0, c1, glow, perm, split, norm, rnvp, aio, z0, z1])
    inn.eval()
    with torch.no_grad():  # ActNorm initialises itself on its first batch
        inn([torch.randn(32, 6)], c=[torch.randn(32, 3), torch.randn(32, 2)])
    xs = [torch.randn(5, 6) * 2]
    cs = [torch.randn(5, 3), torch.randn(5, 2)]
    return inn, xs, cs, [([torch.randn(2, 6)], [torch.randn(2, 3), torch.randn(2, 2)])]


def sequence_all_in_one():
    inn = Ff.SequenceINN(5)
    inn.append(Fm.AllInOneBlock, cond=0, cond_shape=(3,), subnet_constructor=batchnorm_net, affine_clamping=1.5)
    inn.append(Fm.AllInOneBlock, subnet_constructor=batchnorm_net, permute_soft=True, global_affine_type="SIGMOID")
    inn.append(Fm.AllInOneBlock, cond=0, cond_shape=(3,), subnet_constructor=tanh_net, reverse_permutation=True, gin_block=True)
    inn.append(Fm.NICECouplingBlock, subnet_constructor=batchnorm_net)
    warm_up(inn, (5,), [(3,)])
    return inn, [torch.randn(6, 5)], [torch.randn(6, 3)], [([torch.randn(3, 5) * 3], [torch.randn(3, 3)])]


def sequence_conv():
    inn = Ff.SequenceINN(2, 8, 8)
    inn.append(Fm.GLOWCouplingBlock, subnet_constructor=conv_net, clamp=2.0)
    inn.append(Fm.HaarDownsampling)
    inn.append(Fm.AllInOneBlock, subnet_constructor=conv_net, permute_soft=False)
    inn.append(Fm.IRevNetUpsampling)
    inn.append(Fm.GINCouplingBlock, subnet_constructor=conv_net)
    warm_up(inn, (2, 8, 8))
    return inn, [torch.randn(3, 2, 8, 8)], [], []


NETWORKS = {"graph_split_conditions": graph_split_conditions, "sequence_all_in_one": sequence_all_in_one, "sequence_conv": sequence_conv}


def failures():
    """The messages of exports that must fail."""
    messages = {}
    gelu = Ff.SequenceINN(4)
    gelu.append(Fm.GLOWCouplingBlock, subnet_constructor=lambda i, o: nn.Sequential(nn.Linear(i, 8), nn.GELU(), nn.Linear(8, o)))
    class Doubling(Fm.InvertibleModule):
        def forward(self, x, c=[], rev=False, jac=True):
            return [x[0] * (0.5 if rev else 2.0)], 0.

        def output_dims(self, input_dims):
            return input_dims

    custom_module = Ff.SequenceINN(4)
    custom_module.append(Doubling)
    custom = Ff.SequenceINN(4)
    custom.append(Fm.RNVPCouplingBlock, subnet_constructor=lambda i, o: nn.Linear(i, o))
    for name, inn in (("gelu", gelu), ("unsupported_module", custom_module), ("not_sequential", custom)):
        try:
            export(inn, os.devnull)
            messages[name] = None
        except ExportError as error:
            messages[name] = str(error)
    conditional = Ff.SequenceINN(4)
    conditional.append(Fm.AllInOneBlock, cond=0, cond_shape=(2,), subnet_constructor=mlp)
    try:
        export(conditional, os.devnull, inputs=[torch.randn(3, 4)])
        messages["missing_condition"] = None
    except ExportError as error:
        messages["missing_condition"] = str(error)
    return messages


if __name__ == "__main__":
    out = sys.argv[1]
    for seed, (name, build) in enumerate(NETWORKS.items()):
        torch.manual_seed(seed)
        import numpy as np
        np.random.seed(seed)
        inn, xs, cs, more = build()
        export(inn, os.path.join(out, f"{name}.json"), inputs=xs, conditions=cs, name=name, cases=more)
        print(f"wrote {name}.json")
    with open(os.path.join(out, "errors.json"), "w") as f:
        json.dump(failures(), f)
    print("wrote errors.json")
