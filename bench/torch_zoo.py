#!/usr/bin/env python3
"""PyTorch twin for `npm run bench`: any tudui experiment's network, step and evaluation, on synthetic data.

Reads the *resolved* experiment as JSON (what `loadExperiment(file).experiment` returns in dist/config, plus the
input shape and class count from `datasetInfo`), from a file or '-' for stdin:

    {"experiment": {...}, "inputShape": [h, w, c], "classes": 10}

builds the equivalent nn.Sequential from `model.layers` ([{kind, options}]; a nested model's expanded "layers", with
residuals as {kind: "residual", options: {layers, projection}}), the loss and the optimizer, and times
the training step (zero_grad, forward, loss, backward, step, float(loss)) and the evaluation step (net.eval(),
no_grad forward + argmax(1).tolist() at dataset.eval_batch_size). Prints one JSON object on stdout: per-step
training times and per-batch evaluation times (ms, warm-up excluded), peak RSS, description.

    python3 bench/torch_zoo.py EXP.json [--steps 10] [--warmup 2] [--threads N] [--channels-last] [--max-seconds S]

Not modelled, since they do not change the timing: weight initialisation (PyTorch defaults), NHWC vs NCHW flatten
order (same feature count). The parent (scripts/bench.mjs) runs this with OPENBLAS_NUM_THREADS=1 and without
OMP_NUM_THREADS, and --threads = cpu count: PyTorch's own OpenMP threads, single-threaded BLAS calls inside them.
"""
import argparse
import json
import math
import os
import resource
import sys
import time


def pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def tf_same_pads(size, k, s):
    """TensorFlow 'same' padding along one axis: (before, after)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def build(torch, nn, F, layers, input_shape):
    """nn.Sequential from tudui's resolved layer list; input NCHW [1, c, h, w]."""
    h, w, c = input_shape

    class TfSamePad(nn.Module):
        """Asymmetric 'same' padding as TensorFlow computes it (more on the bottom/right)."""

        def __init__(self, k, s, value=0.0):
            super().__init__()
            self.k, self.s, self.value = k, s, value

        def forward(self, x):
            top, bottom = tf_same_pads(x.shape[2], self.k[0], self.s[0])
            left, right = tf_same_pads(x.shape[3], self.k[1], self.s[1])
            return F.pad(x, (left, right, top, bottom), value=self.value)

        def extra_repr(self):
            return f"kernel={self.k}, stride={self.s}, value={self.value}"

    class TfSameAvgPool(nn.Module):
        """TensorFlow 'same' average pooling: padded positions do not count in the mean."""

        def __init__(self, k, s):
            super().__init__()
            self.pad = TfSamePad(k, s)
            self.pool = nn.AvgPool2d(k, s)

        def forward(self, x):
            ones = torch.ones_like(x[:1, :1])
            return self.pool(self.pad(x)) / self.pool(self.pad(ones))

    class Residual(nn.Module):
        """tudui's residual: branch(x) + shortcut(x); the shortcut is empty (identity) or the 1×1 conv + batchnorm."""

        def __init__(self, branch, shortcut):
            super().__init__()
            self.branch, self.shortcut = branch, shortcut

        def forward(self, x):
            return self.branch(x) + self.shortcut(x)

    class Scale(nn.Module):
        """tudui's scale layer: multiply by a constant."""

        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    stack = [[]]  # the module list being filled: the network's, or a residual's branch or shortcut
    probe = torch.zeros(2, c, h, w)

    def add(*ms):
        nonlocal probe
        for m in ms:
            m.eval()
            with torch.no_grad():
                probe = m(probe)
            stack[-1].append(m)

    def sub(entries, at):
        """An nn.Sequential of `entries` applied to the current probe."""
        stack.append([])
        seq(entries, at)
        return nn.Sequential(*stack.pop())

    def seq(entries, at):
        nonlocal probe
        for i, layer in enumerate(entries):
            one(i, layer, at)

    def one(i, layer, at):
        nonlocal probe
        kind, o = layer["kind"], layer.get("options") or {}
        where = f"{at}[{i}] ({kind})"
        if kind == "residual":
            x = probe
            branch = sub(o["layers"], f"{where}.layers")
            out, probe = probe, x
            shortcut = sub(o.get("projection") or [], f"{where}.projection")
            if list(probe.shape) != list(out.shape):
                raise SystemExit(f"torch_zoo: {where}: branch {list(out.shape)} and shortcut {list(probe.shape)} differ")
            probe = out
            stack[-1].append(Residual(branch, shortcut))
            return
        if kind == "conv2d":
            if probe.dim() != 4:
                raise SystemExit(f"torch_zoo: {where}: needs a 4-D input, got {list(probe.shape)}")
            k, s = pair(o["kernel_size"]), pair(o.get("stride", 1))
            p = o.get("padding", 0)
            cin = probe.shape[1]
            bias = o.get("bias", True)
            if p == "same":
                if s == (1, 1) and k[0] % 2 == 1 and k[1] % 2 == 1:
                    add(nn.Conv2d(cin, o["filters"], k, s, (k[0] // 2, k[1] // 2), bias=bias))
                else:
                    add(TfSamePad(k, s), nn.Conv2d(cin, o["filters"], k, s, 0, bias=bias))
            else:
                add(nn.Conv2d(cin, o["filters"], k, s, 0 if p == "valid" else pair(p), bias=bias))
        elif kind in ("maxpool2d", "avgpool2d"):
            k = pair(o["pool_size"])
            s = pair(o["stride"]) if o.get("stride") is not None else k
            p = o.get("padding", 0)
            is_max = kind == "maxpool2d"
            if p == "same":
                if is_max:
                    add(TfSamePad(k, s, value=-math.inf), nn.MaxPool2d(k, s))
                else:
                    add(TfSameAvgPool(k, s))
            else:
                # tudui: explicit zero padding, then a 'valid' pool.
                if p not in ("valid", 0) and pair(p) != (0, 0):
                    ph, pw = pair(p)
                    add(nn.ZeroPad2d((pw, pw, ph, ph)))
                add(nn.MaxPool2d(k, s) if is_max else nn.AvgPool2d(k, s))
        elif kind == "global_avgpool2d":
            add(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        elif kind == "flatten":
            add(nn.Flatten())
        elif kind in ("linear", "dense"):
            if probe.dim() != 2:
                raise SystemExit(f"torch_zoo: {where}: needs a flat input (flatten first), got {list(probe.shape)}")
            add(nn.Linear(probe.shape[1], o["units"], bias=o.get("bias", True)))
        elif kind == "relu":
            add(nn.ReLU())
        elif kind == "leaky_relu":
            add(nn.LeakyReLU(o.get("negative_slope", 0.01)))
        elif kind == "gelu":
            add(nn.GELU())
        elif kind == "sigmoid":
            add(nn.Sigmoid())
        elif kind == "tanh":
            add(nn.Tanh())
        elif kind == "softmax":
            # tudui: softmax over the last axis, the channel axis in NHWC = dim 1 in NCHW.
            add(nn.Softmax(dim=1 if probe.dim() == 4 else -1))
        elif kind == "dropout":
            add(nn.Dropout(o.get("rate", 0.5)))
        elif kind == "scale":
            add(Scale(o["factor"]))
        elif kind == "batchnorm":
            bn = nn.BatchNorm2d if probe.dim() == 4 else nn.BatchNorm1d
            add(bn(probe.shape[1], eps=o.get("eps", 1e-5), momentum=o.get("momentum", 0.1)))
        else:
            raise SystemExit(f"torch_zoo: {where}: layer kind '{kind}' has no PyTorch twin here (add it to bench/torch_zoo.py)")

    seq(layers, "model.layers")
    mods = stack[0]
    if probe.dim() != 2:
        raise SystemExit(f"torch_zoo: the network ends with shape {list(probe.shape[1:])}, expected [classes]")
    return nn.Sequential(*mods), probe.shape[1]


def make_optimizer(torch, params, o):
    name = o["name"]
    wd = o.get("weight_decay")
    if name == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0), nesterov=bool(o.get("nesterov", False)),
                               weight_decay=wd or 0)
    if name == "adam":
        return torch.optim.Adam(params, lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8),
                                weight_decay=wd or 0)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8),
                                 weight_decay=0.01 if wd is None else wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=o["lr"], alpha=o.get("alpha", 0.99), eps=o.get("eps", 1e-8),
                                   momentum=o.get("momentum", 0), weight_decay=wd or 0)
    raise SystemExit(f"torch_zoo: optimizer '{name}' has no PyTorch twin here")


def blas_info():
    """The BLAS actually loaded (Debian switches libblas.so.3 by alternatives) and OpenBLAS's config/threads."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                base = os.path.basename(p)
                if ("blas" in base or "mkl" in base) and p not in libs:
                    libs.append(p)
    except OSError:
        pass
    real = [os.path.realpath(p) for p in libs]
    openblas = next((p for p in real if "openblas" in os.path.basename(p)), None)
    if openblas:
        try:
            import ctypes
            lib = ctypes.CDLL(openblas)
            lib.openblas_get_config.restype = ctypes.c_char_p
            cfg = lib.openblas_get_config().decode()
            return f"{cfg}, {lib.openblas_get_num_threads()} BLAS thread(s) ({os.path.dirname(openblas)})"
        except (OSError, AttributeError):
            return f"OpenBLAS ({openblas})"
    blas = next((p for p in real if "blas" in os.path.basename(p) or "mkl" in os.path.basename(p)), None)
    return f"BLAS {blas}" if blas else "BLAS: none loaded"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", help="resolved experiment JSON file, or - for stdin")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--max-seconds", type=float, default=0, help="time budget for the whole measurement (0: none)")
    args = ap.parse_args()

    spec = json.load(sys.stdin if args.experiment == "-" else open(args.experiment))
    exp = spec["experiment"]
    h, w, c = spec["inputShape"]
    classes = spec["classes"]

    import torch
    from torch import nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # Nested models (blocks, repeats, residuals) come expanded by the bench as `layers` (planToJson); flat ones as written.
    layers = spec.get("layers") or exp["model"]["layers"]
    net, out = build(torch, nn, F, layers, (h, w, c))
    if out != classes:
        raise SystemExit(f"torch_zoo: the network has {out} outputs, the dataset {classes} classes")
    spatial = any(l["kind"] in ("conv2d", "maxpool2d", "avgpool2d", "global_avgpool2d", "residual") for l in layers)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = make_optimizer(torch, net.parameters(), exp["optimizer"])
    loss_cfg = exp["loss"]
    if loss_cfg["name"] == "cross_entropy":
        ce = nn.CrossEntropyLoss(label_smoothing=loss_cfg.get("label_smoothing") or 0.0)
        loss_fn = ce
    elif loss_cfg["name"] == "mse":
        mse = nn.MSELoss()
        loss_fn = lambda logits, y: mse(logits, F.one_hot(y, classes).float())  # noqa: E731
    else:
        raise SystemExit(f"torch_zoo: loss '{loss_cfg['name']}' has no PyTorch twin here")

    batch = exp["dataset"]["batch_size"]
    eb = exp["dataset"].get("eval_batch_size") or batch
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, c, h, w, generator=g).contiguous(memory_format=fmt)
    y = torch.arange(batch) * 7 % classes
    xe = torch.randn(eb, c, h, w, generator=g).contiguous(memory_format=fmt)

    def train_step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return float(loss)

    def eval_step() -> None:
        with torch.no_grad():
            net(xe).argmax(1).tolist()

    # Budget: warm-up until 15% of it, timed training until 60%, eval warm-up 70%, timed eval 95%; at least one each.
    budget = args.max_seconds
    t0 = time.perf_counter()
    over = lambda frac: budget > 0 and time.perf_counter() - t0 > frac * budget  # noqa: E731
    capped = False
    # Warm-up: --warmup steps and at least WARMUP_S, as the tfjs children do (scripts/bench/child.mjs).
    WARMUP_S = 1.0

    def phase(fn, warm_frac, timed_frac, check=lambda r: None):
        """Warm up until warm_frac of the budget, then --steps timed steps until timed_frac; ms per step."""
        nonlocal capped
        tw, i = time.perf_counter(), 0
        while i < max(1, args.warmup) or time.perf_counter() - tw < WARMUP_S:
            if i and over(warm_frac):
                capped = capped or i < args.warmup
                break
            fn()
            i += 1
        ms = []
        for i in range(args.steps):
            if i and over(timed_frac):
                capped = True
                break
            t = time.perf_counter()
            check(fn())
            ms.append((time.perf_counter() - t) * 1000)
        return ms

    def finite(loss):
        if not math.isfinite(loss):
            raise SystemExit(f"torch_zoo: loss is {loss}")

    net.train()
    train = phase(train_step, 0.15, 0.6, finite)
    net.eval()
    evals = phase(eval_step, 0.7, 0.95)

    layout = "channels_last" if args.channels_last else "NCHW"
    if args.channels_last and not spatial:
        layout += " (no 4-D layers: as NCHW)"
    desc = (f"PyTorch {torch.__version__}, {torch.get_num_threads()} OpenMP threads "
            f"(OMP_NUM_THREADS {os.environ.get('OMP_NUM_THREADS', 'unset')}), {layout}, "
            f"mkldnn {'available' if torch.backends.mkldnn.is_available() else 'unavailable'}, "
            f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}: {blas_info()}")
    json.dump({
        "backend": "torch-cl" if args.channels_last else "torch",
        "description": desc,
        "batch": batch, "evalBatch": eb,
        "trainMs": train, "evalMs": evals, "capped": capped,
        "maxRssKB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
