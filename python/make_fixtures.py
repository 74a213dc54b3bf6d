"""Writes FrEIA reference fixtures (freia-reference/1, docs/freia-reference-format.md)
for modules added after the first 63: LinearSpline and Inverse.

Run with FrEIA's source on the path (it is not part of this repository):

    FREIA_SRC=/path/to/FrEIA python3 python/make_fixtures.py test/fixtures/freia

Each fixture is a FrEIA SequenceINN of one or more blocks with `mlp` or
`conv3x3` subnets (Linear/Conv2d, ReLU, Linear/Conv2d; PyTorch's default
initialisation, seeded), two recorded evaluations (batch 4 and 2, inputs
N(0, 2^2) so that points fall inside and outside the splines' domain), the
per-node outputs of each case and the CRC-32 of every parameter.
"""
import json
import os
import sys
import zlib

sys.path.insert(0, os.environ.get("FREIA_SRC", "."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import FrEIA.framework as Ff  # noqa: E402
import FrEIA.modules as Fm  # noqa: E402
from FrEIA.modules.inverse import Inverse  # noqa: E402  (not in FrEIA.modules.__all__)

HIDDEN = 32


def mlp(c_in, c_out):
    return nn.Sequential(nn.Linear(c_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, c_out))


def conv3x3(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, HIDDEN, 3, padding=1), nn.ReLU(), nn.Conv2d(HIDDEN, c_out, 3, padding=1))


SUBNETS = {mlp: {"kind": "mlp", "hidden": HIDDEN, "layers": 2}, conv3x3: {"kind": "conv3x3", "hidden": HIDDEN, "layers": 2}}


def tensor(t, dtype=None):
    t = t.detach().cpu()
    out = {"shape": list(t.shape), "data": t.reshape(-1).tolist()}
    if t.dtype == torch.bool:
        out["data"] = [int(v) for v in out["data"]]
    if dtype:
        out["dtype"] = dtype
    return out


DTYPES = {torch.float32: "float32", torch.int64: "int64", torch.int32: "int32", torch.bool: "bool"}
CRC_BYTES = {"float32": "<f4", "int64": "<i4", "int32": "<i4", "bool": "u1"}


def fixture(name, shape, cond_shapes, blocks, seed):
    """blocks: list of (module class, args without subnet, subnet or None, condition indices)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    inn = Ff.SequenceINN(*shape)
    nodes = [{"name": "in0", "kind": "input", "shape": list(shape)}]
    nodes += [{"name": f"c{k}", "kind": "condition", "shape": list(s)} for k, s in enumerate(cond_shapes)]
    previous = "in0"
    for i, (cls, args, subnet, cond) in enumerate(blocks):
        extra = {"subnet_constructor": subnet} if subnet else {}
        if isinstance(cls, tuple):
            # ("Inverse", wrapped class): FrEIA's Inverse takes the wrapped module itself.
            wrapped = cls[1]([tuple(shape)], **args, **extra)
            inn.append(Inverse(wrapped))
            nodes.append({
                "name": f"b{i}", "kind": "module", "module": "Inverse", "inputs": [[previous, 0]], "conditions": [],
                "args": {"module": {"module": cls[1].__name__, "args": args, "subnet": SUBNETS[subnet] if subnet else None}},
                "subnet": None, "output_shapes": [list(shape)], "param_prefix": f"module_list.{i}.",
            })
            previous = f"b{i}"
            continue
        if cond:
            inn.append(cls, cond=cond[0] if len(cond) == 1 else cond, cond_shape=tuple(cond_shapes[cond[0]]), **args, **extra)
        else:
            inn.append(cls, **args, **extra)
        nodes.append({
            "name": f"b{i}", "kind": "module", "module": cls.__name__, "inputs": [[previous, 0]],
            "conditions": [f"c{k}" for k in cond], "args": args, "subnet": SUBNETS[subnet] if subnet else None,
            "output_shapes": [list(shape)], "param_prefix": f"module_list.{i}.",
        })
        previous = f"b{i}"
    nodes.append({"name": "out0", "kind": "output", "inputs": [[previous, 0]], "shape": list(shape)})
    inn.eval()
    params = {}
    for key, value in inn.state_dict().items():
        params[key] = tensor(value, DTYPES[value.dtype])
    crc = {key: format(zlib.crc32(np.asarray(value.detach().cpu().numpy()).astype(CRC_BYTES[params[key]["dtype"]]).tobytes()), "08x")
           for key, value in inn.state_dict().items()}
    cases = []
    for batch in (4, 2):
        x = torch.randn(batch, *shape) * 2
        cs = [torch.randn(batch, *s) for s in cond_shapes]
        with torch.no_grad():
            per_node = {}
            h = x.clone()
            for i, module in enumerate(inn.module_list):
                c_in = [cs[k] for k in blocks[i][3]]
                (h,), _ = module([h], c=c_in, rev=False, jac=True)
                per_node[f"b{i}"] = [tensor(h)]
            z, log_jac_det = inn(x.clone(), c=cs if cs else None, rev=False, jac=True)
            x_rev, rev_log_jac_det = inn(z.clone(), c=cs if cs else None, rev=True, jac=True)
        cases.append({
            "inputs": [tensor(x)], "conditions": [tensor(c) for c in cs], "outputs": [tensor(z)],
            "log_jac_det": tensor(log_jac_det.expand(batch)), "rev_inputs": [tensor(x_rev)],
            "rev_log_jac_det": tensor(rev_log_jac_det.expand(batch)), "nodes": per_node,
        })
    return {"format": "freia-reference/1", "name": name, "graph": {"nodes": nodes}, "params": params, "cases": cases, "param_crc32": crc}


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
