#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: the tudui seed network on synthetic CIFAR-shaped data.

conv5x5x32 pad2 -> maxpool2 -> conv5x5x32 pad2 -> maxpool2 -> conv5x5x64 pad2 -> maxpool2 -> flatten -> linear 64
-> linear 10, SGD, cross-entropy. Prints one JSON object: per-step training times and per-batch evaluation times
(ms), peak RSS, versions. Times exclude warm-up steps.
"""
import argparse
import json
import os
import resource
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--eval-batch", type=int, default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()

    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 5, padding=2), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10),
    )
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    eb = args.eval_batch or args.batch
    x = torch.randn(args.batch, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (args.batch,))
    xe = torch.randn(eb, 3, 32, 32).contiguous(memory_format=fmt)

    def train_step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return float(loss)

    def eval_step() -> None:
        with torch.no_grad():
            net(xe).argmax(1).tolist()

    train, evals = [], []
    net.train()
    for _ in range(args.warmup):
        train_step()
    for _ in range(args.steps):
        t = time.perf_counter()
        train_step()
        train.append((time.perf_counter() - t) * 1000)
    net.eval()
    for _ in range(args.warmup):
        eval_step()
    for _ in range(args.steps):
        t = time.perf_counter()
        eval_step()
        evals.append((time.perf_counter() - t) * 1000)
    json.dump({
        "backend": "torch",
        "description": f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads, "
                       f"{'channels_last' if args.channels_last else 'NCHW'})",
        "batch": args.batch, "evalBatch": eb,
        "trainMs": train, "evalMs": evals,
        "maxRssKB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
