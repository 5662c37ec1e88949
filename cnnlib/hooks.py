"""Hooks that own their handles: look inside a network while it runs, then leave no trace.

PyTorch calls a *forward hook* ``fn(module, inputs, output)`` after a module's forward pass, a
*full backward hook* ``fn(module, grad_input, grad_output)`` once the gradients with respect
to the module's outputs have been computed (``grad_input`` holds those for its inputs, None
where an input needs no gradient), and a *tensor hook* ``fn(grad)`` when a tensor's gradient
is computed. Each ``register_*`` call returns a handle, and a hook whose handle is lost stays
on the model for good. Every class here is an :class:`OwnsHandles`: it keeps its handles and
removes them in one place (``remove()``), which also runs at the end of a ``with`` block, so
a hook never outlives the block, even when the forward or backward pass raises.

- :class:`Hook` / :class:`Hooks`: a forward or backward hook on one module / on a list of
  modules (fastai's ``callback/hook.py`` design); :func:`hook_output` / :func:`hook_outputs`
  store outputs (or output gradients).
- :class:`TensorHook` / :func:`hook_tensor`: a hook on one tensor's gradient.
- :class:`ActivationsAndGradients`: the outputs of some layers and their gradients, for
  Grad-CAM (pytorch-grad-cam's class of the same name), every call of a layer kept.
- :func:`count_hooks`: how many module hooks a model carries, to check none is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Self

import torch
from torch import nn

from cnnlib import check


def count_hooks(model: nn.Module) -> int:
    """Number of forward, forward-pre, backward and backward-pre hooks on
    ``model`` and its submodules."""
    check.module("count_hooks", model)
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks)
               + len(m._backward_hooks) + len(m._backward_pre_hooks)
               for m in model.modules())


def detached_copy(x: Any, cpu: bool = False) -> Any:
    """A copy of the tensors in ``x`` (a tensor, or tuples, lists and
    dicts of them; anything else as it is), cut from the autograd graph.

    ``detach()`` drops the graph; ``clone()`` gives the copy its own
    memory, so a later in-place op (``ReLU(inplace=True)``) cannot change
    it. ``cpu=True`` moves it to the CPU.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().clone()
        return x.cpu() if cpu else x
    if isinstance(x, (tuple, list)):
        return type(x)(detached_copy(v, cpu) for v in x)
    if isinstance(x, dict):
        return {k: detached_copy(v, cpu) for k, v in x.items()}
    return x


class OwnsHandles:
    """Base of every hook object here: keeps the handles of its hooks in
    ``.handles`` and takes them all off in :meth:`remove`, which also runs
    when a ``with`` block ends, even one that raises."""

    handles: list

    @property
    def removed(self) -> bool:
        """True once every hook is off its module or tensor."""
        return not self.handles

    def remove(self) -> None:
        """Take every hook off (safe to call twice); what was stored is
        kept."""
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Hook(OwnsHandles):
    """A forward (or full backward) hook on ``module`` that keeps ``fn``'s
    last result in ``.stored``.

    Forward: ``fn(module, inputs, output)`` runs after each forward pass of
    ``module``. Backward (``backward=True``): ``fn(module, grad_input,
    grad_output)`` runs once the gradients with respect to the module's
    outputs are computed (``register_full_backward_hook``; it fails if the
    module's output is later modified in place, e.g. by
    ``ReLU(inplace=True)``). With ``detach`` (default) ``fn`` sees
    :func:`detached_copy` of every tensor: no graph (a stored tensor that
    still requires grad would keep the whole graph, and all its saved
    activations, alive) and memory of its own (so a later in-place op
    cannot change it). ``fn``'s return value replaces ``.stored`` at every
    call; to keep every call, append to a list in ``fn``. The hook never
    changes the module's output or gradients.

    Use as a context manager (``with Hook(m, fn) as h: ...``) or call
    :meth:`remove`.
    """

    def __init__(self, module: nn.Module,
                 fn: Callable[[nn.Module, Any, Any], Any],
                 backward: bool = False, detach: bool = True,
                 cpu: bool = False) -> None:
        check.module("Hook", module)
        check.function("Hook", fn)
        self.fn, self.detach, self.cpu = fn, detach, cpu
        self.stored: Any = None
        if backward:
            register = module.register_full_backward_hook
        else:
            register = module.register_forward_hook
        self.handles = [register(self.call_fn)]

    def call_fn(self, module: nn.Module, inputs: Any, output: Any) -> None:
        """What PyTorch calls: store ``fn``'s result (returns None, so
        the module's output or gradient is left as it is)."""
        if self.detach:
            inputs = detached_copy(inputs, self.cpu)
            output = detached_copy(output, self.cpu)
        self.stored = self.fn(module, inputs, output)


class Hooks(OwnsHandles):
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
            check.module(f"Hooks (item {i})", m)
        check.function("Hooks", fn)
        self.hooks = [Hook(m, fn, backward, detach, cpu) for m in modules]
        self.handles = list(self.hooks)  # each Hook removes its own handle

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


def output_of(module: nn.Module, inputs: Any, output: Any) -> Any:
    """A forward hook's ``fn`` that stores the module's output."""
    return output


def output_gradient(module: nn.Module, grad_input: Any,
                    grad_output: tuple) -> Any:
    """A full backward hook's ``fn`` that stores the gradient with respect
    to the module's (first) output."""
    return grad_output[0]


def hook_output(module: nn.Module, detach: bool = True, cpu: bool = False,
                backward: bool = False) -> Hook:
    """A :class:`Hook` whose ``.stored`` is ``module``'s last output (a
    detached copy by default, see :class:`Hook`).

    With ``backward=True`` it stores the gradient of the loss with respect
    to that output (``grad_output[0]`` of a full backward hook) instead.
    ``cpu=True`` moves it to the CPU.
    """
    fn = output_gradient if backward else output_of
    return Hook(module, fn, backward=backward, detach=detach, cpu=cpu)


def hook_outputs(modules: Sequence[nn.Module], detach: bool = True, cpu: bool = False,
                 backward: bool = False) -> Hooks:
    """:func:`hook_output` on each module of a list: ``.stored`` lists their outputs (or gradients)."""
    check.sequence("modules", modules, "a list of nn.Modules")
    for i, m in enumerate(modules):
        check.module(f"hook_outputs (item {i})", m, arg="modules")
    fn = output_gradient if backward else output_of
    return Hooks(modules, fn, backward=backward, detach=detach, cpu=cpu)


class TensorHook(OwnsHandles):
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
            check.function("TensorHook", fn)
        self.fn = fn
        self.stored: Any = None
        self.handles = [tensor.register_hook(self.call_fn)]

    def call_fn(self, grad: torch.Tensor) -> None:
        """What PyTorch calls: store the gradient (or ``fn(grad)``); returns None."""
        self.stored = grad if self.fn is None else self.fn(grad)


def hook_tensor(tensor: torch.Tensor, fn: Callable[[torch.Tensor], Any] | None = None) -> TensorHook:
    """A :class:`TensorHook` on ``tensor``: ``.stored`` is its gradient (or ``fn(grad)``)."""
    check.instance("tensor", tensor, torch.Tensor, "a torch.Tensor that requires grad")
    return TensorHook(tensor, fn)


class ActivationsAndGradients(OwnsHandles):
    """Record the outputs of ``layers`` during a forward pass and their gradients during backward.

    ``layers``: one module of ``model`` or a list of them. A forward hook on each layer records
    its output at *every* call and puts a tensor hook on it, which records that call's gradient
    (tensor hooks rather than module backward hooks, as in pytorch-grad-cam, since a full
    backward hook breaks when the output is changed in place). ``all_activations[i]`` lists
    layer i's outputs in the order of its calls, ``all_gradients[i]`` the gradient of each of
    those calls (None where none reached it): pytorch-grad-cam appends activations and
    prepends gradients to get the same order; here each gradient is stored under its own call,
    so call k's activation always goes with call k's gradient. ``activations[i]`` and
    ``gradients[i]`` are the tensors of a layer that ran once (None if it did not run); for a
    layer that ran more than once (a ReLU module reused, as in torchvision's ``BasicBlock``)
    they raise a ValueError naming the layer and its number of calls, rather than pick one.

    Gradients come either from your own ``loss.backward()`` or from :meth:`backward`, which
    uses ``torch.autograd.grad``: it fills no parameter's ``.grad`` and computes nothing below
    the hooked layers, whatever their ``requires_grad`` flags (``cnnlib.cam`` uses it). When
    a layer's output does not require grad (frozen weights below it, an input without grad)
    but grad mode is on, the hook returns an equal tensor that does (a new leaf, which replaces
    the output): the gradient can then be recorded, and the backward pass stops at that layer.
    With ``detach`` (default) the recorded tensors are :func:`detached_copy` copies, so they
    neither keep the graph alive nor change when a later op works in place.

    Call it like the model (``logits = ag(x)``); use it as a context manager, or call
    :meth:`remove`, to take every hook off.
    """

    def __init__(self, model: nn.Module, layers: nn.Module | Sequence[nn.Module],
                 detach: bool = True) -> None:
        check.module("ActivationsAndGradients", model)
        layers = [layers] if isinstance(layers, nn.Module) else list(layers)
        if not layers:
            raise ValueError("ActivationsAndGradients got no layers; pass a module of the model or a list.")
        for i, layer in enumerate(layers):
            check.module_in(model, layer, f"ActivationsAndGradients layer {i}")
        self.model, self.layers, self.detach = model, layers, detach
        self.handles = [layer.register_forward_hook(partial(self._forward, i))
                        for i, layer in enumerate(layers)]
        self._clear()

    def _clear(self) -> None:
        for h in getattr(self, "_tensor_handles", []):  # hooks left on a previous call's outputs
            h.remove()
        self._tensor_handles: list = []
        self._outputs: list[tuple[int, int, torch.Tensor]] = []  # (layer, call, output)
        self.all_activations: list[list[torch.Tensor]] = [[] for _ in self.layers]
        self.all_gradients: list[list[torch.Tensor | None]] = [[] for _ in self.layers]

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
        call = len(self.all_activations[i])
        self.all_activations[i].append(detached_copy(output) if self.detach else output)
        self.all_gradients[i].append(None)
        if output.requires_grad:
            self._outputs.append((i, call, output))
            self._tensor_handles.append(output.register_hook(partial(self._backward, i, call)))
        return swapped

    def _backward(self, i: int, call: int, grad: torch.Tensor) -> None:
        self.all_gradients[i][call] = grad.detach() if self.detach else grad

    def _one_call(self, i: int, recorded: list) -> torch.Tensor | None:
        if len(recorded) > 1:
            layer = self.layers[i]
            raise ValueError(
                f"Layer {i} ({type(layer).__name__}) ran {len(recorded)} times in one forward pass, so "
                "its activations and gradients are those of different calls; hook a module that "
                "runs once (the block around it, e.g. model.layer4[-1]), or pick one call k from "
                "all_activations[i][k] and all_gradients[i][k]."
            )
        return recorded[0] if recorded else None

    @property
    def activations(self) -> list[torch.Tensor | None]:
        """Each layer's output (None if it did not run); ValueError for a layer that ran twice."""
        return [self._one_call(i, a) for i, a in enumerate(self.all_activations)]

    @property
    def gradients(self) -> list[torch.Tensor | None]:
        """The gradient of each layer's output (None if none reached it); ValueError as above."""
        return [self._one_call(i, g) for i, g in enumerate(self.all_gradients)]

    def __call__(self, x: torch.Tensor) -> Any:
        """Clear what was recorded, then run the model on ``x``."""
        self._clear()
        return self.model(x)

    def backward(self, score: torch.Tensor) -> None:
        """Record the gradient of ``score`` (a scalar computed from this
        pass's output) with respect to every recorded layer output, with
        ``torch.autograd.grad``: no ``.grad`` is filled, nothing below the
        hooked layers is computed. A layer that did not run (or ran under
        ``torch.no_grad()``) gets no gradient."""
        if not self._outputs:
            return
        outputs = [out for _, _, out in self._outputs]
        grads = torch.autograd.grad(score, outputs, allow_unused=True)
        for (i, call, _), grad in zip(self._outputs, grads, strict=True):
            if grad is not None:
                self._backward(i, call, grad)

    def remove(self) -> None:
        """Take every module and tensor hook off and let go of the graph; what was recorded is
        kept."""
        for h in self._tensor_handles:
            h.remove()
        self._tensor_handles, self._outputs = [], []
        super().remove()
