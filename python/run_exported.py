"""Runs a FrEIA module written by freia-ts's exportFreia on given inputs.

    FREIA_SRC=/path/to/FrEIA python3 python/run_exported.py model.py inputs.json [model2.py inputs2.json ...]

inputs.json: {"inputs": [{"shape", "data"}...], "conditions": [...]} (channels first,
batch first, row-major). Prints one JSON object: the network's class, its modules'
classes and node names, the outputs and log-det of the forward pass, and the inputs
and log-det of the reverse pass from those outputs; one line per pair of files
(a failing pair prints {"error": ...} and the others still run; exit 1 then).
"""
import contextlib
import importlib.util
import json
import os
import sys

sys.path.insert(0, os.environ.get("FREIA_SRC", "."))

import torch  # noqa: E402


def tensor(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def run(module_path, inputs_path):
    spec = importlib.util.spec_from_file_location("exported_inn", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(inputs_path) as f:
        data = json.load(f)
    to_torch = lambda t: torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])  # noqa: E731
    xs = [to_torch(t) for t in data["inputs"]]
    cs = [to_torch(t) for t in data.get("conditions", [])]
    inn = module.build_inn()
    sequence = type(inn).__name__ == "SequenceINN"
    c = cs if cs else None
    with torch.enable_grad():  # not no_grad: FrEIA's IResNetLayer estimates its log-det with autograd
        z, log_jac_det = inn(xs[0] if sequence else xs, c=c, jac=True)
        zs = as_list(z)
        outputs = [tensor(t) for t in zs]  # before the reverse pass: some FrEIA modules change their input in place
        log_jac_det = tensor(torch.as_tensor(log_jac_det).expand(xs[0].shape[0]))
        zs = [t.clone() for t in zs]
        x_rev, rev_log_jac_det = inn(zs[0] if sequence else zs, c=c, rev=True, jac=True)
    batch = xs[0].shape[0]
    names = getattr(inn, "node_names", None) or [n.name for n in inn.node_list_fwd if n.module is not None]
    return {
        "module": module_path,
        "network": type(inn).__name__,
        "training": inn.training,
        "modules": [type(m).__name__ for m in inn.module_list],
        "names": names,
        "outputs": outputs,
        "log_jac_det": log_jac_det,
        "rev_inputs": [tensor(t) for t in as_list(x_rev)],
        "rev_log_jac_det": tensor(torch.as_tensor(rev_log_jac_det).expand(batch)),
    }


if __name__ == "__main__":
    failed = False
    for module_path, inputs_path in zip(sys.argv[1::2], sys.argv[2::2]):
        try:
            with contextlib.redirect_stdout(sys.stderr):  # FrEIA prints now and then (InvAutoFC its shapes): keep stdout JSON
                result = run(module_path, inputs_path)
            print(json.dumps(result), flush=True)
        except Exception as error:  # reported per pair, so one bad module does not hide the rest
            failed = True
            print(json.dumps({"error": f"{module_path}: {type(error).__name__}: {error}"}), flush=True)
    sys.exit(1 if failed else 0)
