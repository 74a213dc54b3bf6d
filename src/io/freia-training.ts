/**
 * Training at scale in FrEIA: `exportFreiaTraining(flow)` writes a Python
 * script that trains the network {@link exportFreia} wrote for the same
 * flow, with PyTorch's DistributedDataParallel under `torchrun` (gloo on
 * CPUs, NCCL on GPUs), and writes checkpoints as `freia-reference/1`
 * documents that `importFreia` and `freia-ts verify` take back.
 *
 * The loss is `train.nll`'s, in nats per sample:
 *
 *     nll = mean over the batch of ( ½‖z‖² + (D/2)·log 2π − log|det J| )
 *
 * with D the total size of all outputs of one sample. Each process takes a
 * different shard of the data (a DistributedSampler, reshuffled every
 * epoch); DDP averages the gradients, so a step is one Adam step on the
 * mean over `--batch-size` × world-size rows.
 *
 * Browser-safe: it returns the script's text. Beside the script belong the
 * exported module (`model.py` by default, or `--model PATH`) and
 * `python/freia_export.py` of this package (or `--exporter PATH`); the
 * `freia-ts export --train` command writes all three.
 */
import type { Shape } from '../core/graph.js';
import { DisposedError, FreiaError } from '../core/errors.js';
import type { AnyFlow } from '../runtime/flow.js';
import { pythonLiteral } from './freia-export.js';

/**
 * Options of {@link exportFreiaTraining}.
 *
 * @group Import/export
 */
export interface ExportFreiaTrainingOptions {
  /** The file name of the module {@link exportFreia} wrote, looked up beside the script (default `"model.py"`). */
  readonly model?: string;
  /** The model's name: in the script's docstring, the checkpoints' `name` and the default checkpoint file `<name>-trained.json` (default `"model"`). */
  readonly name?: string;
}

const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/**
 * Writes a Python training script for the FrEIA twin of `flow` (see
 * docs/scale-out.md): `torchrun --nproc_per_node N train.py --data
 * data.npz --steps 1000` trains it with DistributedDataParallel and writes
 * `<name>-trained.json`, a `freia-reference/1` checkpoint with recorded
 * evaluations. Only the flow's inputs, conditions and outputs are read: the
 * network itself comes from the module {@link exportFreia} wrote.
 *
 * @example
 * ```ts
 * import { exportFreia, exportFreiaTraining, inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * const model = exportFreia(flow, { name: 'moons' });                            // write to model.py
 * const train = exportFreiaTraining(flow, { name: 'moons', model: 'model.py' }); // write to train.py
 * ```
 *
 * @group Import/export
 */
export function exportFreiaTraining(flow: AnyFlow, options: ExportFreiaTrainingOptions = {}): string {
  if (flow.isDisposed) throw new DisposedError('exportFreiaTraining: the flow has been disposed');
  const model = options.model ?? 'model.py';
  if (!/^[\w.-]+\.py$/.test(model)) throw new FreiaError(`exportFreiaTraining: model: expected a file name ending in .py (no folder), got ${JSON.stringify(model)}`);
  const name = options.name ?? 'model';
  const nodes = flow.graph.nodes;
  const inputs = nodes.flatMap((n) => (n.kind === 'input' ? [[n.name, n.shape]] : []));
  const conditions = nodes.flatMap((n) => (n.kind === 'condition' ? [[n.name, n.shape]] : []));
  const dims = nodes.reduce((sum, n) => sum + (n.kind === 'output' ? size(n.shape) : 0), 0);
  const header = [
    `"""Trains the FrEIA network ${JSON.stringify(name)} (exported by freia-ts) with DistributedDataParallel.`,
    '',
    `    torchrun --standalone --nproc_per_node 2 ${'train.py'} --data data.npz --steps 1000`,
    `    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 train.py --data ...`,
    `    python train.py --data data.npz            # one process, no torchrun`,
    '',
    `Beside this script: ${model} (freia-ts export; or --model PATH) and freia_export.py`,
    '(node_modules/freia-ts/python/freia_export.py; or --exporter PATH). FrEIA, torch and',
    'numpy must be importable. `python train.py --help` lists the options.',
    '',
    'The data (--data): .npy (the inputs x), .npz / .pt / .json holding x and c (one input and',
    'one condition), or x0, x1, ... / c0, c1, ... (or the node names), batch first, channels first.',
    '',
    `The loss is freia-ts's train.nll: the mean of 0.5*|z|^2 + (D/2)*log(2*pi) - log|det J| in nats per`,
    'sample (D: the size of all outputs of one sample). Rank 0 prints it and writes the checkpoints:',
    'freia-reference/1 documents with evaluations recorded on the first --record rows, which',
    '`npx freia-ts verify` checks and `importFreia` / `npx freia-ts export` read.',
    '"""',
  ].join('\n');
  const constants = [
    `MODEL_FILE = ${pythonLiteral(model)}`,
    `NAME = ${pythonLiteral(name)}`,
    `INPUTS = ${pythonLiteral(inputs)}  # (node name, shape after the batch), in order`,
    `CONDITIONS = ${pythonLiteral(conditions)}`,
    `OUTPUT_DIMS = ${dims}  # D: the size of all outputs of one sample`,
  ].join('\n');
  return `${header}\n${PRELUDE}\n${constants}\n${BODY}`;
}

const PRELUDE = `import argparse
import importlib.util
import json
import math
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
`;

const BODY = `

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=f"Trains the FrEIA network {NAME!r} with DistributedDataParallel (run it with torchrun).")
    p.add_argument("--data", required=True, help="the training rows: .npy, .npz, .pt or .json (see the docstring)")
    p.add_argument("--model", default=os.path.join(HERE, MODEL_FILE), help=f"the module freia-ts export wrote (default: {MODEL_FILE} beside this script)")
    p.add_argument("--exporter", default=HERE, help="freia_export.py, or its folder (default: beside this script)")
    p.add_argument("--out", default=f"{NAME}-trained.json", help="the checkpoint to write (freia-reference/1; default: %(default)s)")
    p.add_argument("--epochs", type=int, help="passes over the data (default 1 without --steps)")
    p.add_argument("--steps", type=int, help="optimizer steps (the run ends after --epochs or --steps, whichever comes first)")
    p.add_argument("--batch-size", type=int, default=100, help="rows per process and step (a step averages batch-size x world-size rows)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default: %(default)s)")
    p.add_argument("--clip-norm", type=float, default=0.0, help="clip the gradients' global norm to this (default 0: off)")
    p.add_argument("--seed", type=int, default=0, help="the shuffling seed (default: %(default)s)")
    p.add_argument("--record", type=int, default=8, help="rows (the first ones) the checkpoint records evaluations on (default: %(default)s)")
    p.add_argument("--log-every", type=int, default=10, help="print the loss every N steps (default: %(default)s)")
    p.add_argument("--checkpoint-every", type=int, default=0, help="also write the checkpoint every N steps (default 0: only at the end)")
    p.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto", help="auto (default): nccl with CUDA, gloo without")
    p.add_argument("--cpu", action="store_true", help="train on CPUs even where CUDA is available")
    p.add_argument("--find-unused-parameters", action="store_true", help="DDP's find_unused_parameters (for networks with parameters a forward pass skips)")
    args = p.parse_args(argv)
    for flag in ("epochs", "steps", "batch_size", "record", "log_every"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            p.error(f"--{flag.replace('_', '-')}: expected a whole number of at least 1, got {value}")
    if args.epochs is None and args.steps is None:
        args.epochs = 1
    return args


def load_module(path, name):
    if not os.path.isfile(path):
        raise SystemExit(f"train.py: {path} does not exist")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_exporter(where):
    path = os.path.join(where, "freia_export.py") if os.path.isdir(where) else where
    if not os.path.isfile(path):
        raise SystemExit(f"train.py: no freia_export.py at {path}: copy node_modules/freia-ts/python/freia_export.py "
                         "beside this script, or pass --exporter PATH")
    return load_module(path, "freia_export")


# ---------------------------------------------------------------- data

def read_arrays(path):
    """The arrays of a data file by key: .npy holds x alone; .npz, .pt and .json hold several."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        return {"x": np.load(path)}
    if ext == ".npz":
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    if ext in (".pt", ".pth"):
        obj = torch.load(path, map_location="cpu")
        obj = obj if isinstance(obj, dict) else {"x": obj}
        return {k: (v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)) for k, v in obj.items()}
    if ext == ".json":
        with open(path) as f:
            obj = json.load(f)
        obj = obj if isinstance(obj, dict) else {"x": obj}
        def array(v):  # nested lists, or {"shape": [...], "data": [...]} as freia-reference/1 writes tensors
            return np.asarray(v["data"]).reshape(v["shape"]) if isinstance(v, dict) else np.asarray(v)
        return {k: array(v) for k, v in obj.items() if k not in ("format", "name")}
    raise SystemExit(f"train.py: --data {path}: expected .npy, .npz, .pt or .json, got {ext or 'no extension'!r}")


def pick(arrays, nodes, letter, path):
    """One float32 tensor per node: key x (or c) for a single node, else x0, x1, ... or the node's name."""
    out = []
    for k, (name, shape) in enumerate(nodes):
        keys = ([letter] if len(nodes) == 1 else []) + [f"{letter}{k}", name]
        key = next((key for key in keys if key in arrays), None)
        if key is None:
            raise SystemExit(f"train.py: {path} has no array for {name!r} (looked for {', '.join(keys)}; it holds {', '.join(sorted(arrays)) or 'nothing'})")
        a = np.asarray(arrays[key], dtype=np.float32)
        if list(a.shape[1:]) != list(shape):
            if a.ndim >= 1 and a[0].size == math.prod(shape):
                a = a.reshape([a.shape[0], *shape])
            else:
                raise SystemExit(f"train.py: {path}: {key} has shape {list(a.shape)}; {name!r} takes [rows, {', '.join(map(str, shape))}]")
        out.append(torch.from_numpy(np.ascontiguousarray(a)))
    return out


# ---------------------------------------------------------------- the network and the loss

def forward(net, sequence, xs, cs):
    """The outputs (a list) and the log-det of FrEIA's forward pass."""
    if sequence:
        z, log_jac_det = net(xs[0], c=list(cs) or None, jac=True)
    else:
        z, log_jac_det = net(list(xs), c=list(cs), jac=True)
    return (list(z) if isinstance(z, (list, tuple)) else [z]), log_jac_det


def nll(zs, log_jac_det):
    """freia-ts's train.nll: mean of 0.5*|z|^2 + (D/2)*log(2*pi) - log|det J|, nats per sample."""
    squares = sum(z.reshape(z.shape[0], -1).pow(2).sum(1) for z in zs)
    return (0.5 * squares + 0.5 * OUTPUT_DIMS * math.log(2 * math.pi) - log_jac_det.reshape(-1)).mean()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def main(argv=None):
    args = parse_args(argv)
    if "RANK" not in os.environ:  # plain \`python train.py\`: one process
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=free_port())
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and not args.cpu
    if cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    backend = args.backend if args.backend != "auto" else ("nccl" if cuda else "gloo")
    exporter = load_exporter(args.exporter)  # before anything is trained: a missing exporter costs nothing
    arrays = read_arrays(args.data)
    xs, cs = pick(arrays, INPUTS, "x", args.data), pick(arrays, CONDITIONS, "c", args.data)
    rows = xs[0].shape[0]
    if any(t.shape[0] != rows for t in xs + cs):
        raise SystemExit(f"train.py: {args.data}: the arrays have different numbers of rows: {[t.shape[0] for t in xs + cs]}")

    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed + rank)  # dropout differs between processes; the weights come from the export
    inn = load_module(args.model, "exported_model").build_inn().to(device)
    import FrEIA.framework as Ff
    sequence = isinstance(inn, Ff.SequenceINN)

    dataset = TensorDataset(*xs, *cs)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    if len(loader) == 0:
        raise SystemExit(f"train.py: {rows} rows give {world} processes no full batch of {args.batch_size}; lower --batch-size")
    split = lambda batch: ([t.to(device) for t in batch[:len(INPUTS)]], [t.to(device) for t in batch[len(INPUTS):]])  # noqa: E731
    print(f"rank {rank}/{world}: {len(sampler)} of {rows} rows, {len(loader)} batches of {args.batch_size} per epoch, "
          f"{device}, backend {backend}", flush=True)

    record = min(args.record, rows)
    record_x, record_c = [t[:record].to(device) for t in xs], [t[:record].to(device) for t in cs]

    def recorded_nll():
        inn.eval()
        with torch.no_grad():
            value = nll(*forward(inn, sequence, record_x, record_c)).item()
        inn.train()
        return value

    def checkpoint(step):
        tmp = args.out + ".tmp"
        exporter.export(inn, tmp, inputs=record_x, conditions=record_c or None, name=NAME,
                        notes=[f"trained by freia-ts's train.py: {step} steps, {world} processes, DistributedDataParallel ({backend})"])
        os.replace(tmp, args.out)  # a reader never sees half a file

    inn.train()
    # FrEIA's ActNorm initialises itself from its first batch: do that before DDP, which then gives every process rank 0's.
    if any(type(m).__name__ == "ActNorm" and not bool(m.is_initialized) for m in inn.modules()):
        with torch.no_grad():
            forward(inn, sequence, *split(next(iter(loader))))
    before = recorded_nll() if rank == 0 else None
    # Flags such as ActNorm's is_initialized are bool buffers, which gloo cannot broadcast; they agree on every process
    # after the warm-up above, so DDP leaves them out (and broadcasts every other buffer from rank 0 before each step).
    flags = [name for name, buffer in inn.named_buffers() if buffer.dtype == torch.bool]
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(inn, flags)
    ddp = DistributedDataParallel(inn, device_ids=[local_rank] if cuda else None, find_unused_parameters=args.find_unused_parameters)
    optimizer = torch.optim.Adam([p for p in inn.parameters() if p.requires_grad], lr=args.lr)

    step, epoch, first, last, start = 0, 0, None, None, time.time()
    while (args.epochs is None or epoch < args.epochs) and (args.steps is None or step < args.steps):
        sampler.set_epoch(epoch)  # a new shuffle every epoch, the same on every process
        for batch in loader:
            bx, bc = split(batch)
            loss = nll(*forward(ddp, sequence, bx, bc))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP averages the gradients over the processes here
            if args.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(inn.parameters(), args.clip_norm)
            optimizer.step()
            step += 1
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            last = mean.item() / world
            first = last if first is None else first
            if not math.isfinite(last):  # every process sees the same mean: all stop together
                if rank == 0:
                    print(f"train.py: the loss is {last} at step {step}; no checkpoint written after it (lower --lr, or set --clip-norm)", file=sys.stderr, flush=True)
                dist.destroy_process_group()
                sys.exit(1)
            if rank == 0 and (step == 1 or step % args.log_every == 0):
                print(f"step {step} epoch {epoch} loss {last:.5f}", flush=True)
            if rank == 0 and args.checkpoint_every and step % args.checkpoint_every == 0:
                checkpoint(step)
            if args.steps is not None and step >= args.steps:
                break
        epoch += 1

    if rank == 0:
        after = recorded_nll()
        checkpoint(step)
        print(f"recorded rows ({record}): nll before {before:.5f} after {after:.5f}", flush=True)
        print(f"done: {step} steps, {epoch} epochs, {world} processes, {time.time() - start:.1f}s of training; "
              f"loss first {first:.5f} last {last:.5f}; wrote {args.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
