"""Loads a model saved in the tfjs layers format (model.json + weights) as a PyTorch module taking NCHW images in
[0, 1]. Supports the layers the project's CIFAR ResNets use: InputLayer, Dense (also on channels, as the frozen
normalisation), Conv2D (same/valid, strides), BatchNormalization (inference statistics), Activation (relu/linear),
Add, AveragePooling2D, GlobalAveragePooling2D, Flatten and nested Sequential/Model layers. Written for this
cross-check; not part of the product."""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

NESTED = ('Model', 'Functional', 'Sequential')


def read_weights(directory, manifest):
    weights = {}
    for group in manifest:
        data = b''.join(open(os.path.join(directory, p), 'rb').read() for p in group['paths'])
        offset = 0
        for spec in group['weights']:
            assert spec['dtype'] == 'float32', spec
            count = int(np.prod(spec['shape'])) if spec['shape'] else 1
            array = np.frombuffer(data, dtype='<f4', count=count, offset=offset).reshape(spec['shape'])
            offset += 4 * count
            weights[spec['name']] = torch.from_numpy(array.copy())
    return weights


class TfjsModel(torch.nn.Module):
    def __init__(self, directory):
        super().__init__()
        spec = json.load(open(os.path.join(directory, 'model.json')))
        topology = spec['modelTopology']
        self.config = topology.get('model_config', topology)
        self.weights = read_weights(directory, spec['weightsManifest'])
        for name, tensor in self.weights.items():
            self.register_buffer(name.replace('/', '__'), tensor, persistent=False)

    def w(self, layer, parameter):
        key = f'{layer}/{parameter}'
        matches = [k for k in self.weights if k == key or k.endswith('/' + key)]
        assert len(matches) == 1, (key, matches)
        return getattr(self, matches[0].replace('/', '__'))

    def forward(self, x):  # x: NCHW in [0, 1]
        return run(self, self.config, x.permute(0, 2, 3, 1))  # the graph runs in NHWC like tfjs


def run(module, config, x):
    layers = config['config']['layers']
    if config['class_name'] == 'Sequential':
        for layer in layers:
            x = apply(module, layer, [x])
        return x
    values = {}
    for layer in layers:
        name = layer['config']['name']
        if layer['class_name'] == 'InputLayer':
            values[name] = x
            continue
        inbound = layer['inbound_nodes'][0]
        values[name] = apply(module, layer, [values[node[0]] for node in inbound])
    output = config['config']['output_layers'][0][0]
    return values[output]


def same_padding(size, kernel, stride):
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def apply(module, layer, inputs):
    kind, c = layer['class_name'], layer['config']
    name = c['name']
    x = inputs[0]
    if kind in NESTED:
        return run(module, layer, x)
    if kind == 'Dense':
        y = torch.matmul(x, module.w(name, 'kernel'))
        if c.get('use_bias', True):
            y = y + module.w(name, 'bias')
        assert c.get('activation', 'linear') in ('linear', None), c['activation']
        return y
    if kind == 'Conv2D':
        kernel = module.w(name, 'kernel').permute(3, 2, 0, 1)  # HWIO → OIHW
        stride = c['strides'][0]
        kh, kw = c['kernel_size']
        nchw = x.permute(0, 3, 1, 2)
        if c['padding'] == 'same':
            top, bottom = same_padding(nchw.shape[2], kh, stride)
            left, right = same_padding(nchw.shape[3], kw, stride)
            nchw = F.pad(nchw, (left, right, top, bottom))
        y = F.conv2d(nchw, kernel, module.w(name, 'bias') if c.get('use_bias') else None, stride=stride)
        assert c.get('activation', 'linear') in ('linear', None), c['activation']
        return y.permute(0, 2, 3, 1)
    if kind == 'BatchNormalization':
        mean, variance = module.w(name, 'moving_mean'), module.w(name, 'moving_variance')
        gamma = module.w(name, 'gamma') if c.get('scale', True) else 1.0
        beta = module.w(name, 'beta') if c.get('center', True) else 0.0
        return (x - mean) / torch.sqrt(variance + c['epsilon']) * gamma + beta
    if kind == 'Activation':
        if c['activation'] == 'relu':
            return F.relu(x)
        assert c['activation'] == 'linear', c['activation']
        return x
    if kind == 'Add':
        return sum(inputs[1:], inputs[0])
    if kind == 'AveragePooling2D':
        assert c['pool_size'] == [1, 1] and c['padding'] == 'valid', c
        s = c['strides'][0]
        return x[:, ::s, ::s, :]
    if kind == 'GlobalAveragePooling2D':
        return x.mean(dim=(1, 2))
    if kind == 'Flatten':
        return x.reshape(x.shape[0], -1)
    raise NotImplementedError(kind)


def load(directory):
    return TfjsModel(directory).eval()
