"""Layers that raise in the forward or the backward pass, to prove hooks are released anyway."""

import torch
from torch import nn


class Boom(torch.autograd.Function):
    """The identity going forward; raises in the backward pass."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("boom in backward")


class BackwardBoom(nn.Module):
    def forward(self, x):
        return Boom.apply(x)


class ForwardBoom(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom in forward")
