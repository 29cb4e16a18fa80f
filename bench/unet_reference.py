#!/usr/bin/env python3
"""Same-run PyTorch reference for bench/unet.bench.ts.

The same network as src/model/network/unet.ts (depth 4, valid 3x3 convolutions + ReLU,
2x2 max-pool, 2x2 stride-2 up-convolution, centre-cropped skips, 1x1 head,
dropout 0.5 at the bottom), 1 input channel, 2 classes, batch 1, 572 -> 388 px,
torch.set_num_threads(2). Forward under no_grad; train step = forward, pixel-wise
softmax cross-entropy, backward, SGD momentum 0.99 (as the TypeScript benchmark).

Prints one JSON line: {"torch", "threads", "values": {entry name: median seconds}},
or {"skipped": reason} when torch cannot be imported.
"""
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as error:  # torch absent: the benchmark quotes FINDINGS instead
    print(json.dumps({"skipped": f"python3 cannot import torch ({error.__class__.__name__}: {error})"}))
    sys.exit(0)

THREADS = int(os.environ.get("UNET_REFERENCE_THREADS", "2"))
REPEATS = int(os.environ.get("UNET_BENCH_REPEATS", "3"))


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, filters, depth=4, classes=2, channels=1):
        super().__init__()
        self.down = nn.ModuleList()
        cin = channels
        for level in range(depth + 1):
            self.down.append(block(cin, filters * 2**level))
            cin = filters * 2**level
        self.ups = nn.ModuleList()
        self.convs = nn.ModuleList()
        for level in reversed(range(depth)):
            c = filters * 2**level
            self.ups.append(nn.ConvTranspose2d(2 * c, c, 2, stride=2))
            self.convs.append(block(2 * c, c))
        self.head = nn.Conv2d(filters, classes, 1)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        skips = []
        for b in self.down[:-1]:
            x = b(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.dropout(self.down[-1](x))
        for up, conv, skip in zip(self.ups, self.convs, reversed(skips)):
            x = up(x)
            dy = (skip.shape[2] - x.shape[2]) // 2
            dx = (skip.shape[3] - x.shape[3]) // 2
            x = conv(torch.cat([skip[:, :, dy : dy + x.shape[2], dx : dx + x.shape[3]], x], 1))
        return self.head(x)


def median_seconds(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(1)
    values = {}
    for filters in (16, 64):
        net = UNet(filters)
        x = torch.rand(1, 1, 572, 572)
        labels = torch.ones(1, 388, 388, dtype=torch.long)
        reps = 1 if filters > 32 else REPEATS
        net.eval()
        with torch.no_grad():
            values[f"unet-forward-572-f{filters}"] = median_seconds(lambda: net(x), reps)
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.99)

        def step():
            opt.zero_grad()
            F.cross_entropy(net(x), labels).backward()
            opt.step()

        values[f"unet-train-572-f{filters}"] = median_seconds(step, reps)
    print(json.dumps({"torch": torch.__version__, "threads": THREADS, "values": values}))


if __name__ == "__main__":
    main()
