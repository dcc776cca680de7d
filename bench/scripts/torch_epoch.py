#!/usr/bin/python3
"""PyTorch peer for whittle's training benchmarks.

Trains the same network with the same protocol as `whittle train` (Adam, lr 1e-3, batch 128,
PyTorch default initialisation, pixels /255 then normalised with the training split's mean and
std, a fresh shuffle each epoch, the last partial batch kept) on Fashion-MNIST and prints one
JSON line per epoch: training seconds (steps only, evaluation excluded) and test accuracy.

Run with Debian's PyTorch: /usr/bin/python3 bench/scripts/torch_epoch.py --arch lenet5 --threads 1
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def network(arch):
    if arch == "lenet-300-100":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                             nn.Linear(100, 10))
    if arch == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    raise SystemExit("unknown arch " + arch)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="lenet5")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = a.data_dir
    xtr = read_idx(d + "/train-images-idx3-ubyte.gz").astype(np.float32) / 255
    ytr = read_idx(d + "/train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = read_idx(d + "/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    yte = read_idx(d + "/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    mean, std = xtr.mean(), xtr.std()
    xtr = torch.from_numpy((xtr - mean) / std).unsqueeze(1)
    xte = torch.from_numpy((xte - mean) / std).unsqueeze(1)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    model = network(a.arch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = xtr.shape[0]
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(n)
        start = time.perf_counter()
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(json.dumps({"arch": a.arch, "threads": a.threads, "epoch": epoch + 1, "seconds": seconds,
                          "test_accuracy": acc}), flush=True)


if __name__ == "__main__":
    main()
