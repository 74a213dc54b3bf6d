"""FrEIA's side of `npm run bench`: the same workloads, on PyTorch's CPU.

The bench (src/cli/bench.ts) starts this script once, when FREIA_SRC is set,
and talks to it over stdin/stdout, one JSON line each way:

    -> {"ready": true, "torch": "1.13.0", "threads": 2}   (or {"skip": "why"})
    <- {"name": "moons-train-step", "runs": 20, "warmup": 20, "warmupMs": 2000}
    -> {"name": "moons-train-step", "backend": "freia-torch-cpu", "medianMs": ...}

so our run and FrEIA's run of a workload follow each other (the machines are
shared and noisy; the ratio of two neighbouring measurements is what counts).
An empty line or end of input ends the script.

The workloads mirror src/cli/bench.ts (shapes, batch sizes, optimizer):
  moons-train-step       8 AllInOneBlock (mlp 512, permute_soft) on [2], batch 100, Adam 1e-3
  mnist-cinn-train-step  12 AllInOneBlock on [784], condition [10] one-hot,
                         Linear(c,512)-ReLU-Linear(512,c'), batch 64 uniform [0,1), Adam 1e-4
  conv-inn-fwd-inv       FrEIA's convolutional tutorial INN, batch 16, forward (with
                         log-det) + inverse (without), no gradients
  moons-sample-10k       10,000 standard-normal samples through the inverse of the moons INN

Run alone: FREIA_SRC=/path/to/freia python3 bench/freia_bench.py, then type
request lines (or pipe them in).
"""
import json
import math
import os
import statistics
import sys
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    src = os.environ.get("FREIA_SRC")
    if not src:
        emit({"skip": "FREIA_SRC is not set"})
        return
    sys.path.insert(0, src)
    try:
        import numpy as np
        import torch
        import torch.nn as nn
        import FrEIA.framework as Ff
        import FrEIA.modules as Fm
    except Exception as error:  # any import failure means: no FrEIA line, say why
        emit({"skip": f"{sys.executable} cannot import torch and FrEIA from {src}: {error}"})
        return

    threads = int(os.environ.get("FREIA_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    np.random.seed(0)

    def mlp(hidden):
        return lambda c_in, c_out: nn.Sequential(nn.Linear(c_in, hidden), nn.ReLU(), nn.Linear(hidden, c_out))

    def conv(hidden, kernel):
        pad = kernel // 2
        return lambda c_in, c_out: nn.Sequential(
            nn.Conv2d(c_in, hidden, kernel, padding=pad), nn.ReLU(), nn.Conv2d(hidden, c_out, kernel, padding=pad))

    def moons(n, noise, rng):
        # sklearn's make_moons, written out (sklearn is not needed).
        n_out = n // 2
        n_in = n - n_out
        t_out = np.linspace(0, math.pi, n_out)
        t_in = np.linspace(0, math.pi, n_in)
        x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
        y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
        pts = np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))
        return torch.tensor(pts, dtype=torch.float32)

    def nll(z, log_jac):
        return torch.mean(0.5 * torch.sum(z ** 2, 1) + 0.5 * math.log(2 * math.pi) * z.shape[1] - log_jac)

    rng = np.random.default_rng(1)

    moons_inn = Ff.SequenceINN(2)
    for _ in range(8):
        moons_inn.append(Fm.AllInOneBlock, subnet_constructor=mlp(512), permute_soft=True)
    moons_opt = torch.optim.Adam(moons_inn.parameters(), lr=1e-3)
    moons_batch = moons(100, 0.05, rng)
    moons_z = torch.randn(10_000, 2)

    def moons_train_step():
        moons_opt.zero_grad()
        z, log_jac = moons_inn(moons_batch)
        loss = nll(z, log_jac)
        loss.backward()
        moons_opt.step()
        loss.item()

    def moons_sample():
        with torch.no_grad():
            x, _ = moons_inn(moons_z, rev=True, jac=False)
            x.numpy()

    cinn = Ff.SequenceINN(784)
    for _ in range(12):
        cinn.append(Fm.AllInOneBlock, cond=0, cond_shape=(10,), subnet_constructor=mlp(512))
    cinn_opt = torch.optim.Adam(cinn.parameters(), lr=1e-4)
    mnist_x = torch.rand(64, 784)
    mnist_c = torch.nn.functional.one_hot(torch.arange(64) % 10, 10).float()

    def mnist_train_step():
        cinn_opt.zero_grad()
        z, log_jac = cinn(mnist_x, c=[mnist_c])
        loss = nll(z, log_jac)
        loss.backward()
        cinn_opt.step()
        loss.item()

    # FrEIA's convolutional tutorial (docs/source/tutorial/examples/convolutional.rst).
    nodes = [Ff.InputNode(3, 32, 32, name="input")]
    ndim_x = 3 * 32 * 32
    for k in range(4):
        nodes.append(Ff.Node(nodes[-1], Fm.GLOWCouplingBlock, {"subnet_constructor": conv(256, 3), "clamp": 1.2}, name=f"conv_high_res_{k}"))
        nodes.append(Ff.Node(nodes[-1], Fm.PermuteRandom, {"seed": k}, name=f"permute_high_res_{k}"))
    nodes.append(Ff.Node(nodes[-1], Fm.IRevNetDownsampling, {}))
    for k in range(12):
        subnet = conv(256, 1) if k % 2 == 0 else conv(256, 3)
        nodes.append(Ff.Node(nodes[-1], Fm.GLOWCouplingBlock, {"subnet_constructor": subnet, "clamp": 1.2}, name=f"conv_low_res_{k}"))
        nodes.append(Ff.Node(nodes[-1], Fm.PermuteRandom, {"seed": k}, name=f"permute_low_res_{k}"))
    nodes.append(Ff.Node(nodes[-1], Fm.Flatten, {}, name="flatten"))
    split_node = Ff.Node(nodes[-1], Fm.Split, {"section_sizes": (ndim_x // 4, 3 * ndim_x // 4), "dim": 0}, name="split")
    nodes.append(split_node)
    for k in range(12):
        nodes.append(Ff.Node(nodes[-1], Fm.GLOWCouplingBlock, {"subnet_constructor": mlp(512), "clamp": 2.0}, name=f"fully_connected_{k}"))
        nodes.append(Ff.Node(nodes[-1], Fm.PermuteRandom, {"seed": k}, name=f"permute_{k}"))
    nodes.append(Ff.Node([nodes[-1].out0, split_node.out1], Fm.Concat1d, {"dim": 0}, name="concat"))
    nodes.append(Ff.OutputNode(nodes[-1], name="output"))
    conv_inn = Ff.GraphINN(nodes)
    images = torch.rand(16, 3, 32, 32)

    def conv_fwd_inv():
        with torch.no_grad():
            z, log_jac = conv_inn(images)
            x, _ = conv_inn(z, rev=True, jac=False)
            x.numpy()
            log_jac.numpy()

    workloads = {
        "moons-train-step": moons_train_step,
        "mnist-cinn-train-step": mnist_train_step,
        "conv-inn-fwd-inv": conv_fwd_inv,
        "moons-sample-10k": moons_sample,
    }
    emit({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "workloads": list(workloads)})

    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        request = json.loads(line)
        name = request["name"]
        run = workloads.get(name)
        if run is None:
            emit({"name": name, "error": "no such FrEIA workload"})
            continue
        # At least `warmup` runs and `warmupMs` milliseconds, as the TypeScript side warms up.
        warmup_start = time.perf_counter()
        done = 0
        while done < int(request.get("warmup", 20)) or (time.perf_counter() - warmup_start) * 1000 < float(request.get("warmupMs", 2000)):
            run()
            done += 1
        times = []
        for _ in range(int(request.get("runs", 20))):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
        emit({
            "name": name,
            "backend": f"freia-torch-cpu-{torch.get_num_threads()}t",
            "runs": len(times),
            "warmup": int(request.get("warmup", 20)),
            "warmupMs": float(request.get("warmupMs", 2000)),
            "medianMs": round(statistics.median(times), 3),
            "minMs": round(min(times), 3),
            "maxMs": round(max(times), 3),
        })


if __name__ == "__main__":
    main()
