"""Exports a FrEIA network to freia-ts: a `freia-reference/1` document
(docs/freia-reference-format.md) with the network's wiring, its state dict
and, when given tensors to run, the evaluations that `freia-ts verify`
re-runs.

    from freia_export import export
    export(inn, 'model.json', inputs=[x], conditions=[c])

`inn` is a FrEIA `SequenceINN` or `GraphINN`. Needs torch and FrEIA only.
Every module is described from what it stores (FrEIA modules do not keep
their constructor's arguments); subnets must be `nn.Sequential`s of Linear,
Conv2d, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout and BatchNorm1d/2d.
Anything else raises `ExportError`, naming the node and the layer.

The recorded evaluations run in evaluation mode under `torch.no_grad()`
(the network's training flag is restored afterwards), and the state dict is
read after them, so a data-initialised ActNorm is exported initialised.
"""
import json
import zlib

import numpy as np
import torch
import torch.nn as nn

FORMAT = "freia-reference/1"
SUPPORTED_LAYERS = "Linear, Conv2d, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, BatchNorm1d/2d"
STOCHASTIC_NOTE = "log_jac_det and rev_log_jac_det are stochastic estimates (random probe vectors); compare them only loosely"
REVERSE_NOTE = "rev_log_jac_det is not -log_jac_det (FrEIA behaviour, recorded as-is)"
DTYPES = {torch.float32: "float32", torch.int64: "int64", torch.int32: "int32", torch.bool: "bool"}
CRC_BYTES = {"float32": "<f4", "int64": "<i4", "int32": "<i4", "bool": "u1"}


class ExportError(Exception):
    """The network holds something the format cannot describe; the message names the node (and the layer)."""


# ---------------------------------------------------------------- tensors

def _tensor(t, dtype=None):
    """A tensor as the format writes it: shape and row-major data (`dtype` for state-dict entries)."""
    t = torch.as_tensor(t).detach().cpu()
    out = {"shape": list(t.shape), "data": t.reshape(-1).tolist()}
    if t.dtype == torch.bool:
        out["data"] = [int(v) for v in out["data"]]
    if dtype:
        out["dtype"] = dtype
    return out


def _f32(value):
    """A float32 value as the shortest decimal that reads back to it."""
    return float(str(np.float32(value)))


def _param(key, value):
    value = value.detach().cpu()
    if value.dtype in (torch.float64, torch.float16, torch.bfloat16):
        value = value.float()
    if value.dtype not in DTYPES:
        raise ExportError(f"parameter {key!r} has dtype {value.dtype}; the format holds float32, int64, int32 and bool")
    dtype = DTYPES[value.dtype]
    crc = format(zlib.crc32(value.numpy().astype(CRC_BYTES[dtype]).tobytes()), "08x")
    return _tensor(value, dtype), crc


# ---------------------------------------------------------------- subnets

def _layer(node, subnet, index, layer):
    """One nn.Sequential child as a layer entry (widths included; the caller nulls the last one)."""
    where = f"node {node!r}, subnet {subnet!r}, layer {index}"
    kind = type(layer)
    if kind is nn.Linear:
        return {"type": "Linear", "out_features": layer.out_features, "bias": layer.bias is not None}
    if kind is nn.Conv2d:
        if layer.groups != 1 or tuple(layer.dilation) != (1, 1) or layer.padding_mode != "zeros":
            raise ExportError(f"{where}: nn.Conv2d with groups, dilation or padding_mode other than 1, 1, 'zeros' cannot be described")
        padding = layer.padding
        if isinstance(padding, str):
            if padding == "valid":
                padding = (0, 0)
            elif all(k % 2 == 1 for k in layer.kernel_size) and tuple(layer.stride) == (1, 1):
                padding = tuple(k // 2 for k in layer.kernel_size)
            else:
                raise ExportError(f"{where}: nn.Conv2d with padding='same' and an even kernel cannot be described")
        return {"type": "Conv2d", "out_channels": layer.out_channels, "kernel_size": list(layer.kernel_size),
                "stride": list(layer.stride), "padding": list(padding), "bias": layer.bias is not None}
    if kind in (nn.ReLU, nn.Tanh, nn.Sigmoid):
        return {"type": kind.__name__}
    if kind is nn.LeakyReLU:
        return {"type": "LeakyReLU", "negative_slope": layer.negative_slope}
    if kind is nn.Dropout:
        return {"type": "Dropout", "p": layer.p}
    if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
        if not layer.track_running_stats or layer.running_mean is None:
            raise ExportError(f"{where}: nn.{kind.__name__} without running statistics (track_running_stats=False) cannot be described")
        return {"type": kind.__name__, "eps": layer.eps, "affine": layer.affine}
    raise ExportError(f"{where}: {_torch_name(layer)} cannot be described; supported: {SUPPORTED_LAYERS}")


def _torch_name(layer):
    kind = type(layer)
    return f"nn.{kind.__name__}" if kind.__module__.startswith("torch.nn") else f"{kind.__module__}.{kind.__name__}"


def _compact(layers):
    """`mlp`, `conv3x3` or `conv1x1` when the layers are one of the built-in stacks, else None."""
    weights, activations = layers[0::2], layers[1::2]
    if len(layers) < 3 or len(layers) % 2 == 0 or any(a != {"type": "ReLU"} for a in activations):
        return None
    hidden = {w.get("out_features", w.get("out_channels")) for w in weights[:-1]}
    if len(hidden) != 1 or not all(w.get("bias") for w in weights):
        return None
    if all(w["type"] == "Linear" for w in weights):
        kind = "mlp"
    elif all(w["type"] == "Conv2d" and w["stride"] == [1, 1] for w in weights):
        shapes = {(tuple(w["kernel_size"]), tuple(w["padding"])) for w in weights}
        kind = {((3, 3), (1, 1)): "conv3x3", ((1, 1), (0, 0)): "conv1x1"}.get(shapes.pop()) if len(shapes) == 1 else None
    else:
        kind = None
    return {"kind": kind, "hidden": hidden.pop(), "layers": len(weights)} if kind else None


def _subnet(node, name, net):
    if type(net) is not nn.Sequential:
        raise ExportError(f"node {node!r}, subnet {name!r}: {_torch_name(net)} is not an nn.Sequential; "
                          f"only nn.Sequential subnets of {SUPPORTED_LAYERS} can be described")
    layers = [_layer(node, name, i, child) for i, child in enumerate(net)]
    compact = _compact(layers)
    if compact:
        return compact
    weighted = [i for i, layer in enumerate(layers) if layer["type"] in ("Linear", "Conv2d")]
    if weighted:
        last = layers[weighted[-1]]
        last["out_features" if last["type"] == "Linear" else "out_channels"] = None
    return {"kind": "sequential", "layers": layers}


def _subnets(node, module, names):
    """The one description that fits all of a module's subnets (the module chooses their widths)."""
    specs = [(name, _subnet(node, name, getattr(module, name))) for name in names if getattr(module, name, None) is not None]
    if not specs:
        return None
    for name, spec in specs[1:]:
        if spec != specs[0][1]:
            raise ExportError(f"node {node!r}: subnets {specs[0][0]!r} and {name!r} differ apart from their input and output widths; "
                              "the format describes one subnet constructor per module")
    return specs[0][1]


# ---------------------------------------------------------------- modules

def _clamp_activation(node, module):
    probe = torch.tensor([-2.5, -0.4, 0.0, 0.7, 3.1])
    with torch.no_grad():
        got = module.f_clamp(probe)
        for name, f in (("ATAN", lambda u: 0.636 * torch.atan(u)), ("TANH", torch.tanh), ("SIGMOID", lambda u: 2. * (torch.sigmoid(u) - 0.5))):
            if torch.allclose(got, f(probe), rtol=0, atol=1e-7):
                return name
    raise ExportError(f"node {node!r}: {type(module).__name__} has a custom clamp_activation; only \"ATAN\", \"TANH\" and \"SIGMOID\" can be described")


def _coupling(node, module):
    return {"clamp": module.clamp, "clamp_activation": _clamp_activation(node, module), "split_len": module.split_len1}


def _spline_base(base):
    return {"bins": int(base.bins), "min_bin_sizes": [_f32(v) for v in base.min_bin_sizes.tolist()],
            "default_domain": [_f32(v) for v in base.default_domain.tolist()], "identity_tails": bool(base.identity_tails),
            "domain_clamping": base.domain_clamping}


def _all_in_one(node, module):
    activation = getattr(module.global_scale_activation, "__name__", "")
    kinds = {"_sigmoid_global_scale_activation": "SIGMOID", "_softplus_global_scale_activation": "SOFTPLUS", "_exp_global_scale_activation": "EXP"}
    if activation not in kinds:
        raise ExportError(f"node {node!r}: AllInOneBlock with an unknown global scale activation {activation!r}")
    soft = module.householder > 0 or (module.w_perm is not None and module.w_perm.dtype.is_floating_point)
    return {"affine_clamping": module.clamp, "gin_block": bool(module.GIN), "global_affine_type": kinds[activation],
            "permute_soft": bool(soft), "learned_householder_permutation": int(module.householder),
            "reverse_permutation": bool(module.reverse_pre_permute)}


def _fixed_linear(node, module):
    b = None if module.b.dim() == 0 else _tensor(module.b.reshape(-1))
    return {"M": _tensor(module.M.t()), "b": b}


def _fixed_1x1(node, module):
    c = module.M.shape[0]
    return {"M": _tensor(module.M.reshape(c, c).t())}


def _split(node, module):
    return {"section_sizes": list(module.split_size_or_sections), "dim": module.dim}


def _iresnet(node, module):
    names = ("internal_size", "n_internal_layers", "jacobian_iterations", "hutchinson_samples", "fixed_point_iterations",
             "lipschitz_iterations", "lipschitz_batchsize", "spectral_norm_max")
    return {name: getattr(module, name) for name in names}


def _elementwise_spline(node, module):
    return _spline_base(module)


def _binned_spline(node, module):
    return {**_spline_base(module.spline_base), "split_len": module.split_len1}


_NO_ARGS = lambda node, module: {}  # noqa: E731

# FrEIA class name -> (arguments from what the module stores, attribute names of its subnets)
MODULES = {
    "GLOWCouplingBlock": (_coupling, ("subnet1", "subnet2")),
    "GINCouplingBlock": (_coupling, ("subnet1", "subnet2")),
    "RNVPCouplingBlock": (_coupling, ("subnet_s1", "subnet_t1", "subnet_s2", "subnet_t2")),
    "AffineCouplingOneSided": (_coupling, ("subnet",)),
    "ConditionalAffineTransform": (_coupling, ("subnet",)),
    "NICECouplingBlock": (lambda node, m: {"split_len": m.split_len1}, ("F", "G")),
    "AllInOneBlock": (_all_in_one, ("subnet",)),
    "RationalQuadraticSpline": (_binned_spline, ("subnet1", "subnet2")),
    "LinearSpline": (_binned_spline, ("subnet1", "subnet2")),
    "ElementwiseRationalQuadraticSpline": (_elementwise_spline, ("subnet",)),
    "ActNorm": (_NO_ARGS, ()),
    "PermuteRandom": (_NO_ARGS, ()),
    "FixedLinearTransform": (_fixed_linear, ()),
    "Fixed1x1Conv": (_fixed_1x1, ()),
    "InvertibleSigmoid": (_NO_ARGS, ()),
    "LearnedElementwiseScaling": (_NO_ARGS, ()),
    "HaarDownsampling": (lambda node, m: {"order_by_wavelet": bool(m.permute), "rebalance": m.fac_fwd / 0.5}, ()),
    "HaarUpsampling": (lambda node, m: {"order_by_wavelet": bool(m.permute), "rebalance": m.fac_fwd / 0.5}, ()),
    "IRevNetDownsampling": (lambda node, m: {"legacy_backend": bool(m.legacy_backend)}, ()),
    "IRevNetUpsampling": (lambda node, m: {"legacy_backend": bool(m.legacy_backend)}, ()),
    "Flatten": (_NO_ARGS, ()),
    "Reshape": (lambda node, m: {"output_dims": list(m.target_dim)}, ()),
    "Split": (_split, ()),
    "Concat": (lambda node, m: {"dim": m.dim}, ()),
    "OrthogonalTransform": (lambda node, m: {"correction_interval": m.correction_interval, "clamp": m.clamp}, ()),
    "HouseholderPerm": (lambda node, m: {"n_reflections": m.n_reflections, "fixed": bool(m.fixed)}, ()),
    "IResNetLayer": (_iresnet, ()),
    "InvAutoAct": (lambda node, m: {"learnable": bool(m.alpha.requires_grad)}, ()),
    "InvAutoActFixed": (lambda node, m: {"learnable": bool(m.alpha.requires_grad)}, ()),
    "InvAutoActTwoSided": (lambda node, m: {"learnable": bool(m.alpha_pos.requires_grad)}, ()),
    "InvAutoFC": (lambda node, m: {"dims_out": m.dims_out}, ()),
    "InvAutoConv2D": (lambda node, m: {"dims_out": list(m.dims_out), "kernel_size": m.kernel_size, "padding": m.padding}, ()),
    # freia-ts's exports write a subclass that keeps the component choice; FrEIA's own class takes it as input i.
    "GaussianMixtureModel": (lambda node, m: {"component": m.component} if getattr(m, "component", None) is not None else {}, ()),
}


def _describe(node, module):
    """(class name, args, subnet) of one FrEIA module; Inverse describes the module it wraps."""
    name = type(module).__name__
    if name == "Inverse" and isinstance(getattr(module, "module", None), nn.Module):
        inner, args, subnet = _describe(node, module.module)
        return name, {"module": {"module": inner, "args": args, "subnet": subnet}}, None
    if name not in MODULES:
        raise ExportError(f"node {node!r}: module class {name} cannot be exported; the exporter describes {', '.join(sorted(MODULES))} and Inverse")
    args, subnets = MODULES[name]
    return name, args(node, module), _subnets(node, module, subnets)


def _classes(module):
    """Class names of a module and of the module an Inverse wraps."""
    names = {type(module).__name__}
    if type(module).__name__ == "Inverse":
        names |= _classes(module.module)
    return names


# ---------------------------------------------------------------- graphs

def _prefixes(inn):
    return {id(m): name + "." for name, m in inn.named_modules() if name}


def _module_node(name, module, inputs, conditions, output_shapes, prefix):
    kind, args, subnet = _describe(name, module)
    return {"name": name, "kind": "module", "module": kind, "inputs": inputs, "conditions": conditions,
            "args": args, "subnet": subnet, "output_shapes": [list(s) for s in output_shapes], "param_prefix": prefix}


def _sequence(inn, prefixes):
    """Nodes of a SequenceINN: in0, c0..., b0..., out0; and how to run each module alone."""
    used = [k for k in inn.conditions if k is not None]
    count = max(used) + 1 if used else 0
    cond_shapes = [None] * count
    for module, k in zip(inn.module_list, inn.conditions):
        if k is not None and cond_shapes[k] is None:
            cond_shapes[k] = list(module.dims_c[0])
    if any(s is None for s in cond_shapes):
        raise ExportError(f"SequenceINN: conditions {[k for k, s in enumerate(cond_shapes) if s is None]} are used by no module")
    nodes = [{"name": "in0", "kind": "input", "shape": list(inn.shapes[0])}]
    nodes += [{"name": f"c{k}", "kind": "condition", "shape": s} for k, s in enumerate(cond_shapes)]
    previous = "in0"
    for i, (module, k) in enumerate(zip(inn.module_list, inn.conditions)):
        nodes.append(_module_node(f"b{i}", module, [[previous, 0]], [] if k is None else [f"c{k}"], [inn.shapes[i + 1]], prefixes[id(module)]))
        previous = f"b{i}"
    nodes.append({"name": "out0", "kind": "output", "inputs": [[previous, 0]], "shape": list(inn.shapes[-1])})

    def per_node(xs, cs):
        out, h = {}, xs[0].clone()
        for i, (module, k) in enumerate(zip(inn.module_list, inn.conditions)):
            extra = {} if k is None else {"c": [cs[k]]}
            (h,), _ = module([h], rev=False, jac=True, **extra)
            out[f"b{i}"] = [h]
        return out

    return nodes, per_node


def _graph(inn, prefixes):
    """Nodes of a GraphINN: inputs, conditions, modules in FrEIA's forward order, outputs."""
    from FrEIA.framework.graph_inn.nodes import Node
    names = [n.name for n in inn.node_list]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ExportError(f"GraphINN: node names {twice} are used more than once; name every node (Node(..., name=...))")
    special = set(inn.in_nodes) | set(inn.out_nodes) | set(inn.condition_nodes)
    nodes = [{"name": n.name, "kind": "input", "shape": list(n.dims)} for n in inn.in_nodes]
    nodes += [{"name": n.name, "kind": "condition", "shape": list(n.dims)} for n in inn.condition_nodes]
    modules = [n for n in inn.node_list_fwd if n not in special]
    for n in modules:
        if type(n) is not Node:
            raise ExportError(f"node {n.name!r}: a {type(n).__name__} cannot be exported; only Node, InputNode, ConditionNode and OutputNode")
        nodes.append(_module_node(n.name, n.module, [[src.name, k] for src, k in n.inputs], [c.name for c, _ in n.conditions],
                                  n.output_dims, prefixes[id(n.module)]))
    nodes += [{"name": n.name, "kind": "output", "inputs": [[n.inputs[0][0].name, n.inputs[0][1]]], "shape": list(n.input_dims[0])}
              for n in inn.out_nodes]

    def per_node(xs, cs):
        outs, _ = inn([x.clone() for x in xs], c=list(cs), rev=False, jac=True, intermediate_outputs=True)
        return {n.name: [outs[n, k] for k in range(len(n.output_dims))] for n in modules}

    return nodes, per_node


# ---------------------------------------------------------------- evaluations

def _listed(value, what):
    if value is None:
        return []
    if torch.is_tensor(value):
        return [value]
    if isinstance(value, (list, tuple)) and all(torch.is_tensor(v) for v in value):
        return list(value)
    raise ExportError(f"{what}: expected a tensor or a list of tensors, one per {what[:-1]} node")


def _log_det(value, batch):
    value = torch.as_tensor(value).detach().reshape(-1)
    return value.expand(batch) if value.numel() == 1 else value


def _check_run(k, nodes, xs, cs):
    """The tensors of evaluation `k` fit the input and condition nodes (count, shape after the batch, one batch size)."""
    where = "inputs=/conditions=" if k == 0 else f"cases[{k - 1}]"
    for kind, given in (("input", xs), ("condition", cs)):
        expected = [n for n in nodes if n["kind"] == kind]
        if len(given) != len(expected):
            listed = ", ".join(f"{n['name']} {n['shape']}" for n in expected) or "none"
            raise ExportError(f"{where}: the network takes {len(expected)} {kind}(s) ({listed}), got {len(given)}")
        for n, t in zip(expected, given):
            if list(t.shape[1:]) != n["shape"]:
                raise ExportError(f"{where}: {kind} {n['name']!r} has shape {n['shape']} (after the batch), got {list(t.shape)}")
    batches = {t.shape[0] for t in xs + cs}
    if len(batches) != 1 or 0 in batches:
        raise ExportError(f"{where}: every tensor needs the same batch size, at least 1; got {sorted(batches)}")


def _case(inn, sequence, per_node, xs, cs):
    batch = xs[0].shape[0]
    run = (lambda v, rev: inn(v[0].clone(), c=list(cs) if cs else None, rev=rev, jac=True)) if sequence else \
          (lambda v, rev: inn([t.clone() for t in v], c=list(cs), rev=rev, jac=True))
    outputs, log_jac_det = run(xs, False)
    outputs = _listed(outputs, "outputs")
    rev_inputs, rev_log_jac_det = run(outputs, True)
    nodes = per_node(xs, cs)
    return {"inputs": [_tensor(x) for x in xs], "conditions": [_tensor(c) for c in cs], "outputs": [_tensor(z) for z in outputs],
            "log_jac_det": _tensor(_log_det(log_jac_det, batch)), "rev_inputs": [_tensor(x) for x in _listed(rev_inputs, "inputs")],
            "rev_log_jac_det": _tensor(_log_det(rev_log_jac_det, batch)),
            "nodes": {name: [_tensor(t) for t in ts] for name, ts in nodes.items()}}


# ---------------------------------------------------------------- the document

def document(inn, inputs=None, conditions=None, name=None, cases=None, notes=None):
    """The `freia-reference/1` document of `inn` as a dict (see `export`)."""
    from FrEIA.framework import GraphINN, SequenceINN
    if isinstance(inn, SequenceINN):
        sequence = True
    elif isinstance(inn, GraphINN):
        sequence = False
    else:
        raise ExportError(f"expected a FrEIA SequenceINN or GraphINN, got {type(inn).__name__}")
    prefixes = _prefixes(inn)
    nodes, per_node = (_sequence if sequence else _graph)(inn, prefixes)
    runs = ([] if inputs is None else [(inputs, conditions)]) + list(cases or [])
    recorded = []
    training = inn.training
    inn.eval()
    try:
        with torch.no_grad():
            for k, (xs, cs) in enumerate(runs):
                xs, cs = _listed(xs, "inputs"), _listed(cs, "conditions")
                _check_run(k, nodes, xs, cs)
                recorded.append(_case(inn, sequence, per_node, xs, cs))
    finally:
        inn.train(training)
    for module in inn.modules():
        initialized = getattr(module, "is_initialized", None)
        if type(module).__name__ == "ActNorm" and initialized is not None and not bool(initialized):
            where = next(n["name"] for n in _all_nodes(nodes) if n.get("param_prefix") and prefixes.get(id(module), "").startswith(n["param_prefix"]))
            raise ExportError(f"node {where!r}: ActNorm is not initialised yet (its scale and offset are unset); run a batch through the network first, or pass inputs=")
    params, crc = {}, {}
    for key, value in inn.state_dict().items():
        params[key], crc[key] = _param(key, value)
    classes = set().union(*(_classes(m) for m in inn.modules() if m is not inn))
    notes = list(notes or [])
    if "IResNetLayer" in classes:
        notes += [STOCHASTIC_NOTE, REVERSE_NOTE]
    elif "LearnedElementwiseScaling" in classes:
        notes += [REVERSE_NOTE]
    doc = {"format": FORMAT, "name": name or type(inn).__name__, "graph": {"nodes": nodes}, "params": params}
    if recorded:
        doc["cases"] = recorded
    if notes:
        doc["notes"] = notes
    doc["param_crc32"] = crc
    return doc


def _all_nodes(nodes):
    return [n for n in nodes if n["kind"] == "module"]


def export(inn, path, inputs=None, conditions=None, name=None, cases=None, notes=None):
    """Writes `inn` (a FrEIA SequenceINN or GraphINN) to `path` as a freia-reference/1 document.

    inputs:     a tensor, or one tensor per input node (batch first): records one evaluation
                (forward outputs and log-det, the reverse pass, each module node's outputs)
    conditions: a tensor, or one tensor per condition (SequenceINN: by `cond` index)
    name:       the model's name in the document and in every message (default: the class name)
    cases:      more evaluations to record, as a list of (inputs, conditions) pairs
    notes:      extra notes for `verify` (see the format's *Verification*)

    Returns the document. Raises ExportError for anything the format cannot describe.
    """
    doc = document(inn, inputs=inputs, conditions=conditions, name=name, cases=cases, notes=notes)
    with open(path, "w") as f:
        json.dump(doc, f)
    return doc


__all__ = ["export", "document", "ExportError", "FORMAT"]
