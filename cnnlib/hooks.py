"""Hooks that own their handles: look inside a network while it runs, then leave no trace.

PyTorch calls a *forward hook* ``fn(module, inputs, output)`` after a module's forward pass, a
*full backward hook* ``fn(module, grad_input, grad_output)`` when the gradients with respect
to the module's inputs are computed, and a *tensor hook* ``fn(grad)`` when a tensor's gradient
is computed. Each ``register_*`` call returns a handle, and a hook whose handle is lost stays
on the model for good. The classes here keep the handle, store what the hook computes in
``.stored`` and remove it in one place (``remove()``), also as context managers, so a hook
never outlives the ``with`` block, even when the forward or backward pass raises.

- :class:`Hook` / :class:`Hooks`: a forward or backward hook on one module / on a list of
  modules (fastai's ``callback/hook.py`` design); :func:`hook_output` / :func:`hook_outputs`
  store outputs (or output gradients).
- :class:`TensorHook` / :func:`hook_tensor`: a hook on one tensor's gradient.
- :class:`ActivationsAndGradients`: the outputs of some layers and their gradients, for
  Grad-CAM (pytorch-grad-cam's class of the same name).
- :func:`count_hooks`: how many module hooks a model carries, to check none is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import torch
from torch import nn


def count_hooks(model: nn.Module) -> int:
    """Number of forward, forward-pre, backward and backward-pre hooks on
    ``model`` and its submodules."""
    _check_module(model, "count_hooks")
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks)
               + len(m._backward_hooks) + len(m._backward_pre_hooks)
               for m in model.modules())


def _check_module(module: object, name: str) -> None:
    if not isinstance(module, nn.Module):
        raise ValueError(f"{name} needs an nn.Module, got {type(module).__name__}.")


def _check_fn(fn: object, name: str) -> None:
    if not callable(fn):
        raise ValueError(f"{name} needs a function to call, got {type(fn).__name__}.")


def _detach(x: Any, cpu: bool = False) -> Any:
    """Detached copy of the tensors in ``x`` (a tensor, or tuples/lists/dicts of them)."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return x.cpu() if cpu else x
    if isinstance(x, (tuple, list)):
        return type(x)(_detach(v, cpu) for v in x)
    if isinstance(x, dict):
        return {k: _detach(v, cpu) for k, v in x.items()}
    return x


class _OwnsHandle:
    """Owns one hook handle: removes it in one place, also as a context manager."""

    handle: Any
    stored: Any

    @property
    def removed(self) -> bool:
        """True once the hook is off its module or tensor."""
        return self.handle is None

    def remove(self) -> None:
        """Take the hook off (safe to call twice); ``.stored`` is kept."""
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    def __enter__(self) -> _OwnsHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Hook(_OwnsHandle):
    """A forward (or full backward) hook on ``module`` that keeps ``fn``'s
    last result in ``.stored``.

    Forward: ``fn(module, inputs, output)`` runs after each forward pass of
    ``module``. Backward (``backward=True``): ``fn(module, grad_input,
    grad_output)`` runs when the gradients with respect to the module's
    inputs are computed (``register_full_backward_hook``; it fails if the
    module's output is later modified in place, e.g. by
    ``ReLU(inplace=True)``). With ``detach`` (default) ``fn`` sees detached
    tensors: a stored tensor that still requires grad would keep the whole
    autograd graph, and all its saved activations, alive. ``fn``'s return
    value replaces ``.stored`` at every call; to keep every call, append to
    a list in ``fn``. The hook never changes the module's output or
    gradients.

    Use as a context manager (``with Hook(m, fn) as h: ...``) or call
    :meth:`remove`.
    """

    def __init__(self, module: nn.Module,
                 fn: Callable[[nn.Module, Any, Any], Any],
                 backward: bool = False, detach: bool = True,
                 cpu: bool = False) -> None:
        _check_module(module, "Hook")
        _check_fn(fn, "Hook")
        self.fn, self.detach, self.cpu = fn, detach, cpu
        self.stored: Any = None
        if backward:
            register = module.register_full_backward_hook
        else:
            register = module.register_forward_hook
        self.handle = register(self._hook)

    def _hook(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if self.detach:
            inputs = _detach(inputs, self.cpu)
            output = _detach(output, self.cpu)
        self.stored = self.fn(module, inputs, output)



class Hooks:
    """One :class:`Hook` per module of ``modules`` (a list), with the same ``fn``.

    Indexable and iterable (``hooks[0].stored``); ``.stored`` lists each hook's last result in
    the order of ``modules``. A context manager that removes every hook on exit. An
    ``nn.Sequential`` is not unpacked for you: pass ``list(seq)`` to hook its children.
    """

    def __init__(self, modules: Sequence[nn.Module], fn: Callable[[nn.Module, Any, Any], Any],
                 backward: bool = False, detach: bool = True, cpu: bool = False) -> None:
        if isinstance(modules, nn.Module):
            raise ValueError(
                f"Hooks takes a list of modules, got one {type(modules).__name__}; use Hook(module, fn) "
                "for one module, or list(module.children()) to hook its children."
            )
        modules = list(modules)
        if not modules:
            raise ValueError("Hooks got an empty list of modules; pass at least one nn.Module.")
        for i, m in enumerate(modules):
            _check_module(m, f"Hooks (item {i})")
        _check_fn(fn, "Hooks")
        self.hooks = [Hook(m, fn, backward, detach, cpu) for m in modules]

    def __getitem__(self, i: int) -> Hook:
        return self.hooks[i]

    def __len__(self) -> int:
        return len(self.hooks)

    def __iter__(self) -> Iterator[Hook]:
        return iter(self.hooks)

    @property
    def stored(self) -> list[Any]:
        """Each hook's last stored value, in the order of the modules."""
        return [h.stored for h in self.hooks]

    def remove(self) -> None:
        """Take every hook off its module."""
        for h in self.hooks:
            h.remove()

    def __enter__(self) -> Hooks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _output(module: nn.Module, inputs: Any, output: Any, clone: bool) -> Any:
    # Clone: a later in-place op (ReLU(inplace=True), x += identity) would change a stored view.
    return _clone(output) if clone else output


def _grad_output(module: nn.Module, grad_input: Any, grad_output: tuple) -> Any:
    return grad_output[0]


def _clone(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, (tuple, list)):
        return type(x)(_clone(v) for v in x)
    return x


def hook_output(module: nn.Module, detach: bool = True, cpu: bool = False,
                backward: bool = False) -> Hook:
    """A :class:`Hook` whose ``.stored`` is ``module``'s last output (a
    detached copy by default).

    With ``backward=True`` it stores the gradient of the loss with respect
    to that output (``grad_output[0]`` of a full backward hook) instead.
    ``cpu=True`` moves it to the CPU.
    """
    fn = _grad_output if backward else partial(_output, clone=detach)
    return Hook(module, fn, backward=backward, detach=detach, cpu=cpu)


def hook_outputs(modules: Sequence[nn.Module], detach: bool = True, cpu: bool = False,
                 backward: bool = False) -> Hooks:
    """:func:`hook_output` on each module of a list: ``.stored`` lists their outputs (or gradients)."""
    fn = _grad_output if backward else partial(_output, clone=detach)
    return Hooks(modules, fn, backward=backward, detach=detach, cpu=cpu)


class TensorHook(_OwnsHandle):
    """A hook on ``tensor``'s gradient: ``.stored = fn(grad)`` each time the gradient is computed.

    ``fn`` defaults to storing the gradient itself. The hook only reads: whatever ``fn``
    returns, the gradient that flows on is unchanged (``Tensor.register_hook`` would replace it
    with a non-None return value). ``tensor`` must require grad. A context manager.
    """

    def __init__(self, tensor: torch.Tensor, fn: Callable[[torch.Tensor], Any] | None = None) -> None:
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"TensorHook needs a torch.Tensor, got {type(tensor).__name__}.")
        if not tensor.requires_grad:
            raise ValueError(
                "TensorHook needs a tensor that requires grad (no gradient will ever reach this one); "
                "call x.requires_grad_() on an input, or hook a tensor computed from parameters."
            )
        if fn is not None:
            _check_fn(fn, "TensorHook")
        self.fn = fn
        self.stored: Any = None
        self.handle = tensor.register_hook(self._hook)

    def _hook(self, grad: torch.Tensor) -> None:
        self.stored = grad if self.fn is None else self.fn(grad)



def hook_tensor(tensor: torch.Tensor, fn: Callable[[torch.Tensor], Any] | None = None) -> TensorHook:
    """A :class:`TensorHook` on ``tensor``: ``.stored`` is its gradient (or ``fn(grad)``)."""
    return TensorHook(tensor, fn)


class ActivationsAndGradients:
    """Record the outputs of ``layers`` during a forward pass and their gradients during backward.

    ``layers``: one module of ``model`` or a list of them. A forward hook on each layer stores
    its output in ``activations[i]`` and puts a tensor hook on that output, which stores the
    gradient in ``gradients[i]`` (tensor hooks rather than module backward hooks, as in
    pytorch-grad-cam, since a full backward hook breaks when the output is changed in place).
    When a layer's output does not require grad (frozen weights, an input without grad) but
    grad mode is on, the output is swapped for an equal tensor that does: the gradient is then
    recorded, and the backward pass stops at that layer. A layer that runs twice per forward
    keeps its last output. With ``detach`` (default) the stored activations are detached
    copies, so they neither keep the graph alive nor change when a later op works in place.

    Call it like the model (``logits = ag(x)``); use it as a context manager, or call
    :meth:`remove`, to take every hook off.
    """

    def __init__(self, model: nn.Module, layers: nn.Module | Sequence[nn.Module],
                 detach: bool = True) -> None:
        _check_module(model, "ActivationsAndGradients")
        layers = [layers] if isinstance(layers, nn.Module) else list(layers)
        if not layers:
            raise ValueError("ActivationsAndGradients got no layers; pass a module of the model or a list.")
        for i, layer in enumerate(layers):
            _check_module(layer, f"ActivationsAndGradients (layer {i})")
            if not any(m is layer for m in model.modules()):
                raise ValueError(
                    f"Layer {i} ({type(layer).__name__}) is not a submodule of the model; pass one of "
                    "model.modules(): model.layer4[-1] for a ResNet, model.features[-1] for MobileNetV2."
                )
        self.model, self.layers, self.detach = model, layers, detach
        self.activations: list[torch.Tensor | None] = [None] * len(layers)
        self.gradients: list[torch.Tensor | None] = [None] * len(layers)
        self._tensor_handles: list = []
        self.handles = [layer.register_forward_hook(partial(self._forward, i))
                        for i, layer in enumerate(layers)]

    def _forward(self, i: int, module: nn.Module, inputs: Any, output: Any) -> torch.Tensor | None:
        if not isinstance(output, torch.Tensor):
            raise ValueError(
                f"Layer {i} ({type(module).__name__}) returned a {type(output).__name__}, not a tensor; "
                "hook a layer whose output is one tensor."
            )
        swapped = None
        if torch.is_grad_enabled() and not output.requires_grad:
            # A new leaf that requires grad; clone() so later in-place ops are still allowed.
            output = swapped = output.detach().requires_grad_(True).clone()
        self.activations[i] = output.detach().clone() if self.detach else output
        if output.requires_grad:
            self._tensor_handles.append(output.register_hook(partial(self._backward, i)))
        return swapped

    def _backward(self, i: int, grad: torch.Tensor) -> None:
        self.gradients[i] = grad.detach() if self.detach else grad

    def __call__(self, x: torch.Tensor) -> Any:
        """Clear what was recorded, then run the model on ``x``."""
        self.activations = [None] * len(self.layers)
        self.gradients = [None] * len(self.layers)
        for h in self._tensor_handles:  # hooks left on the previous call's outputs
            h.remove()
        self._tensor_handles = []
        return self.model(x)

    def remove(self) -> None:
        """Take every module and tensor hook off; what was recorded is kept."""
        for h in self.handles + self._tensor_handles:
            h.remove()
        self.handles, self._tensor_handles = [], []

    def __enter__(self) -> ActivationsAndGradients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
