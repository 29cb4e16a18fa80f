#!/usr/bin/python3
"""Golden values for test/model/reference.test.ts: writes unet.json beside this script.

Run from the repository root with Debian's Python, which has Debian's PyTorch:
    apt-get install -y python3-torch      # bookworm: 1.13.1+dfsg-4 (reports 1.13.0a0), numpy 1.24
    /usr/bin/python3 test/golden/unet.py
(/usr/bin/python3, because `python3` on the PATH may be another interpreter, e.g. pyenv's,
without Debian's packages.) The output is the same on every run.
Tests read only the JSON, so CI needs no Python.

The network is defined here from the paper (Ronneberger et al. 2015), not from
src/model/unet.ts or bench/unet_reference.py: depth 2, 8 base filters, 1 input channel,
2 classes; per level two valid 3x3 convolutions + ReLU, then a 2x2 max-pool (channels
double per level); up: a 2x2 stride-2 transposed convolution halving the channels, the
skip centre-cropped to its size and concatenated as [skip, up], two 3x3 convolutions +
ReLU; a 1x1 head gives the class logits. No dropout (unetflow's is training-only, and
the test builds its network with dropout 0).

Fixed data, all from numpy.random.default_rng(SEED) in this order: per parameter (in
unetflow's weight order) kernels He-normal (std sqrt(2 / fan-in), fan-in = k*k*cin, and
cin for the up-convolution) and biases 0.1 * N(0, 1), so that misplaced biases show;
then the input tiles U[0, 1); the labels (0 or 1, each with probability 1/2); the weight
map U[0.5, 3).

Recorded, computed in float64 and stored as float32 (little-endian, base64):
- probabilities: the pixel-wise softmax of the logits;
- loss: E = -sum_x w(x) log p_l(x)(x), divided by the number of labelled pixels
  (batch x rows x columns), as src/model/loss.ts defines it;
- the gradient of every parameter at the initial weights;
- the parameters after one and after two steps of torch.optim.SGD, momentum 0.99, on
  the same batch. Two steps, because the first step of momentum SGD is plain SGD.
  torch's rule (v <- m v + g; p <- p - lr v) is tfjs's tf.train.momentum's. The paper
  trained with Caffe, whose rule is v <- m v + lr g; p <- p - v: the same for a constant
  learning rate. Both explicit rules are computed here and must equal torch's.
- float32Noise: how far the same computation in float32 PyTorch lies from the float64
  values (max absolute difference, relative to the largest value for the gradients and
  updates), for choosing the test's tolerances.

Layouts. PyTorch keeps tensors as NCHW, conv kernels as OIHW [cout, cin, kh, kw] and
transposed-convolution kernels as [cin, cout, kh, kw]. The JSON holds unetflow's:
images and probabilities NHWC; kernels HWIO [kh, kw, cin, cout]; the up-convolution as
the matrix [cin, 4 cout] whose column (a * 2 + b) * cout + o feeds output pixel
(2i + a, 2j + b), channel o, from input pixel (i, j): W[c, o, a, b] of torch.
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 2015
DEPTH, FILTERS, CHANNELS, CLASSES = 2, 8, 1, 2
BATCH, TILE = 2, 48  # 48 px is the smallest tile whose output (8 px) is at least 8 px wide
LEARNING_RATE, MOMENTUM = 0.01, 0.99


def parameter_shapes():
    """(our name, torch shape, fan-in) in unetflow's weight order (weightSpecs)."""
    specs = []

    def conv(name, k, cin, cout):
        specs.append((f'{name}/kernel', (cout, cin, k, k), k * k * cin))
        specs.append((f'{name}/bias', (cout,), 0))

    cin = CHANNELS
    for level in range(DEPTH + 1):
        c = FILTERS * 2**level
        conv(f'down{level}/conv1', 3, cin, c)
        conv(f'down{level}/conv2', 3, c, c)
        cin = c
    for level in reversed(range(DEPTH)):
        c = FILTERS * 2**level
        specs.append((f'up{level}/upconv/kernel', (2 * c, c, 2, 2), 2 * c))
        specs.append((f'up{level}/upconv/bias', (c,), 0))
        conv(f'up{level}/conv1', 3, 2 * c, c)
        conv(f'up{level}/conv2', 3, c, c)
    conv('head', 1, FILTERS, CLASSES)
    return specs


def forward(p, x):
    """Class logits [N, K, out, out] of input x [N, C, in, in]; p maps our names to torch tensors."""
    def block(t, name):
        t = F.relu(F.conv2d(t, p[f'{name}/conv1/kernel'], p[f'{name}/conv1/bias']))
        return F.relu(F.conv2d(t, p[f'{name}/conv2/kernel'], p[f'{name}/conv2/bias']))

    skips = []
    t = x
    for level in range(DEPTH):
        t = block(t, f'down{level}')
        skips.append(t)
        t = F.max_pool2d(t, 2, 2)
    t = block(t, f'down{DEPTH}')
    for level in reversed(range(DEPTH)):
        up = F.conv_transpose2d(t, p[f'up{level}/upconv/kernel'], p[f'up{level}/upconv/bias'], stride=2)
        skip = skips[level]
        dy = (skip.shape[2] - up.shape[2]) // 2
        dx = (skip.shape[3] - up.shape[3]) // 2
        t = torch.cat([skip[:, :, dy:dy + up.shape[2], dx:dx + up.shape[3]], up], 1)
        t = block(t, f'up{level}')
    return F.conv2d(t, p['head/kernel'], p['head/bias'])


def weighted_loss(logits, labels, weights):
    """src/model/loss.ts: sum of w(x) * -log p_l(x)(x), divided by the number of pixels."""
    nll = -F.log_softmax(logits, 1).gather(1, labels[:, None]).squeeze(1)
    assert torch.allclose(nll, F.cross_entropy(logits, labels, reduction='none'))
    return (weights * nll).sum() / labels.numel()


def to_ours(name, t):
    """A parameter (or its gradient) from torch's layout to unetflow's."""
    t = t.detach()
    if name.endswith('/bias'):
        return t
    if '/upconv/' in name:  # [cin, cout, a, b] -> [cin, a, b, cout] -> [cin, 4 cout]
        return t.permute(0, 2, 3, 1).reshape(t.shape[0], -1)
    return t.permute(2, 3, 1, 0)  # OIHW -> HWIO


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().cpu().numpy(), dtype='<f4').tobytes()).decode()


def compute(initial, x, labels, weights, dtype):
    """Probabilities, loss, gradients and the parameters after one and two SGD steps, in `dtype`."""
    names = list(initial)
    p = {n: initial[n].to(dtype).clone().requires_grad_(True) for n in names}
    x, weights = x.to(dtype), weights.to(dtype)
    opt = torch.optim.SGD([p[n] for n in names], lr=LEARNING_RATE, momentum=MOMENTUM)
    out = {}
    for step in range(2):
        opt.zero_grad()
        logits = forward(p, x)
        loss = weighted_loss(logits, labels, weights)
        loss.backward()
        if step == 0:
            out['probabilities'] = F.softmax(logits, 1).detach()
            out['loss'] = loss.item()
            out['gradient'] = {n: p[n].grad.detach().clone() for n in names}
        else:
            out['gradient2'] = {n: p[n].grad.detach().clone() for n in names}
        opt.step()
        out['afterOneStep' if step == 0 else 'afterTwoSteps'] = {n: p[n].detach().clone() for n in names}
    return out


def check_momentum_rules(initial, r):
    """torch.optim.SGD's two steps against the explicit rules of torch/tfjs and of Caffe."""
    worst = 0.0
    for n, p0 in initial.items():
        p0 = p0.double()
        g0, g1 = r['gradient'][n], r['gradient2'][n]
        v = g0  # torch / tfjs: v <- m v + g (v starts at 0), p <- p - lr v
        p1 = p0 - LEARNING_RATE * v
        v = MOMENTUM * v + g1
        p2 = p1 - LEARNING_RATE * v
        h = LEARNING_RATE * g0  # Caffe: h <- m h + lr g, p <- p - h
        q1 = p0 - h
        h = MOMENTUM * h + LEARNING_RATE * g1
        q2 = q1 - h
        for a, b in ((p1, r['afterOneStep'][n]), (p2, r['afterTwoSteps'][n]), (q1, p1), (q2, p2)):
            worst = max(worst, (a - b).abs().max().item())
    assert worst < 1e-12, f'momentum rules disagree by {worst}'
    return worst


def main():
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(SEED)
    initial = {}
    for name, shape, fan_in in parameter_shapes():
        std = np.sqrt(2.0 / fan_in) if fan_in else 0.1
        initial[name] = torch.from_numpy(std * rng.standard_normal(shape)).float()
    out_size = 8
    x = torch.from_numpy(rng.random((BATCH, CHANNELS, TILE, TILE))).float()
    labels = torch.from_numpy(rng.integers(0, 2, (BATCH, out_size, out_size)))
    weights = torch.from_numpy(rng.uniform(0.5, 3.0, (BATCH, out_size, out_size))).float()

    ref = compute(initial, x, labels, weights, torch.float64)
    assert ref['probabilities'].shape == (BATCH, CLASSES, out_size, out_size)
    momentum_check = check_momentum_rules(initial, ref)
    f32 = compute(initial, x, labels, weights, torch.float32)

    def rel(a, b):
        return ((a.double() - b.double()).abs().max() / b.abs().max()).item()

    noise = {
        'probabilities': (f32['probabilities'].double() - ref['probabilities']).abs().max().item(),
        'lossRelative': abs(f32['loss'] - ref['loss']) / abs(ref['loss']),
        'gradientRelative': max(rel(f32['gradient'][n], ref['gradient'][n]) for n in initial),
        'updateRelative': max(
            rel(f32[k][n].double() - initial[n].double(), ref[k][n] - initial[n].double()) for k in ('afterOneStep', 'afterTwoSteps') for n in initial
        ),
    }
    doc = {
        'generator': 'test/golden/unet.py',
        'torch': torch.__version__,
        'numpy': np.__version__,
        'seed': SEED,
        'config': {'depth': DEPTH, 'baseFilters': FILTERS, 'classes': CLASSES, 'inputChannels': CHANNELS, 'padding': 'valid', 'dropout': 0},
        'batch': BATCH,
        'inputSize': TILE,
        'outputSize': out_size,
        'optimizer': {'kind': 'sgd', 'learningRate': LEARNING_RATE, 'momentum': MOMENTUM},
        'layout': 'float32 little-endian base64; images and probabilities NHWC, kernels HWIO, up-convolutions [cin, 4 cout]',
        'input': b64(x.permute(0, 2, 3, 1)),
        'labels': labels.flatten().tolist(),
        'weightMap': b64(weights),
        'probabilities': b64(ref['probabilities'].permute(0, 2, 3, 1)),
        'loss': ref['loss'],
        'momentumRulesAgree': momentum_check,
        'float32Noise': noise,
        'parameters': [
            {
                'name': n,
                'shape': list(to_ours(n, initial[n]).shape),
                'initial': b64(to_ours(n, initial[n])),
                'gradient': b64(to_ours(n, ref['gradient'][n])),
                'afterOneStep': b64(to_ours(n, ref['afterOneStep'][n])),
                'afterTwoSteps': b64(to_ours(n, ref['afterTwoSteps'][n])),
            }
            for n in initial
        ],
    }
    print(f"loss {ref['loss']:.9f}, momentum rules agree to {momentum_check:.1e}, float32 noise {noise}", file=sys.stderr)
    with open(os.path.join(HERE, 'unet.json'), 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
