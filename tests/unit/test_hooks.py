"""Tests of cnnlib.hooks: stored values equal PyTorch's, and no hook outlives its owner."""

from __future__ import annotations

import pytest
import torch
from failing_layers import BackwardBoom, ForwardBoom
from torch import nn

from cnnlib.hooks import (
    ActivationsAndGradients,
    Hook,
    Hooks,
    TensorHook,
    count_hooks,
    hook_output,
    hook_outputs,
    hook_tensor,
)


def small_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5),
    )


@pytest.fixture
def x():
    torch.manual_seed(1)
    return torch.randn(2, 3, 9, 9)


# --------------------------------------------------------------------------- count_hooks


def test_count_hooks_counts_every_kind_of_module_hook():
    net = small_net()
    assert count_hooks(net) == 0
    handles = [
        net[0].register_forward_hook(lambda m, i, o: None),
        net[0].register_forward_pre_hook(lambda m, i: None),
        net[2].register_full_backward_hook(lambda m, gi, go: None),
        net[2].register_full_backward_pre_hook(lambda m, go: None),
        net.register_forward_hook(lambda m, i, o: None),
    ]
    assert count_hooks(net) == 5
    for h in handles:
        h.remove()
    assert count_hooks(net) == 0


# --------------------------------------------------------------------------- Hook, Hooks


def test_hook_stores_what_fn_returns_from_the_module_output(x):
    net = small_net()
    with Hook(net[2], lambda m, i, o: (m, i[0].shape, o)) as hook:
        net(x)
    module, in_shape, out = hook.stored
    assert module is net[2] and in_shape == (2, 4, 9, 9)
    torch.testing.assert_close(out, net[:3](x), rtol=0, atol=0)
    assert hook.removed and count_hooks(net) == 0


def test_hook_output_stores_a_detached_copy_that_later_inplace_ops_leave_alone(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True))
    with hook_output(net[0]) as hook:
        y = net(x)
    expected = net[0](x)
    assert (expected < 0).any()  # the in-place ReLU would have zeroed these in a shared view
    torch.testing.assert_close(hook.stored, expected)
    assert not hook.stored.requires_grad and hook.stored.grad_fn is None
    assert y.requires_grad  # the model's own output still carries its graph


def test_hook_output_without_detach_keeps_the_graph(x):
    net = small_net()
    with hook_output(net[0], detach=False) as hook:
        net(x)
    assert hook.stored.grad_fn is not None


def test_hook_never_changes_the_module_output(x):
    net = small_net()
    expected = net(x)
    with Hook(net[2], lambda m, i, o: o * 0 + 1):
        torch.testing.assert_close(net(x), expected, rtol=0, atol=0)


def test_hook_remove_is_idempotent_and_keeps_stored(x):
    net = small_net()
    hook = hook_output(net[0])
    net(x)
    hook.remove()
    hook.remove()
    stored = hook.stored
    net(x * 2)
    assert hook.stored is stored and count_hooks(net) == 0


def test_hooks_store_each_module_output_in_list_order(x):
    net = small_net()
    modules = [net[3], net[0], net[6]]
    with hook_outputs(modules) as hooks:
        out = net(x)
    assert len(hooks) == 3 and [h.stored for h in hooks] == hooks.stored
    torch.testing.assert_close(hooks[0].stored, net[:4](x))
    torch.testing.assert_close(hooks[1].stored, net[:1](x))
    torch.testing.assert_close(hooks[2].stored, out.detach())
    assert all(h.removed for h in hooks) and count_hooks(net) == 0


def test_hooks_serve_layer_counting_with_an_fn_that_sees_every_call(x):
    # Layer counting (shapes.layer_counts) keeps every call in run order, shared modules included.
    relu = nn.ReLU()
    net = nn.Sequential(nn.Conv2d(3, 4, 3), relu, nn.Conv2d(4, 4, 3), relu)
    rows = []

    def record(module, inputs, output):
        rows.append((type(module).__name__, tuple(output.shape),
                     sum(p.numel() for p in module.parameters(recurse=False))))
        return tuple(output.shape)

    leaves = [m for m in net.modules() if not list(m.children())]
    with Hooks(leaves, record) as hooks, torch.no_grad():
        net(x)
    assert rows == [("Conv2d", (2, 4, 7, 7), 112), ("ReLU", (2, 4, 7, 7), 0),
                    ("Conv2d", (2, 4, 5, 5), 148), ("ReLU", (2, 4, 5, 5), 0)]
    assert hooks.stored == [(2, 4, 7, 7), (2, 4, 5, 5), (2, 4, 5, 5)]  # the shared ReLU: last call
    assert count_hooks(net) == 0


def test_no_hook_survives_a_forward_pass_that_raises(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), ForwardBoom())
    with pytest.raises(RuntimeError, match="boom in forward"), hook_outputs(list(net)) as hooks:
        net(x)
    with pytest.raises(RuntimeError, match="boom in forward"), hook_output(net[0], backward=True):
        net(x)
    assert hooks[0].stored is not None and count_hooks(net) == 0


def test_no_hook_survives_a_backward_pass_that_raises(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), BackwardBoom(), nn.Conv2d(4, 2, 3))
    with pytest.raises(RuntimeError, match="boom in backward"), \
            hook_outputs([net[0], net[2]], backward=True) as hooks:
        net(x).sum().backward()
    assert hooks[1].stored is not None and hooks[0].stored is None  # the error came in between
    assert count_hooks(net) == 0


def test_backward_hook_sees_the_grad_output_and_grad_input_autograd_computes(x):
    net = small_net()
    target = torch.randn(2, 5)

    def loss_of(out):
        return ((out - target) ** 2).sum()

    with Hook(net[2], lambda m, gi, go: (gi, go), backward=True) as hook, \
            hook_output(net[2], backward=True) as grad_hook:
        loss_of(net(x)).backward()
    grad_input, grad_output = hook.stored
    # autograd, with the network cut at net[2]
    a = net[:2](x).detach().requires_grad_()
    b = net[2](a)
    d_a, d_b = torch.autograd.grad(loss_of(net[3:](b)), [a, b])
    torch.testing.assert_close(grad_output[0], d_b)
    torch.testing.assert_close(grad_input[0], d_a)
    torch.testing.assert_close(grad_hook.stored, d_b)
    assert count_hooks(net) == 0


# --------------------------------------------------------------------------- tensor hooks


def test_tensor_hook_stores_the_gradient_and_never_changes_it():
    w = torch.randn(5, requires_grad=True)
    y = w * 3
    with hook_tensor(y) as plain, TensorHook(y, lambda g: g * 100) as scaled:
        (y**2).sum().backward()
    torch.testing.assert_close(plain.stored, 2 * y.detach())
    torch.testing.assert_close(scaled.stored, 200 * y.detach())
    torch.testing.assert_close(w.grad, 18 * w.detach())  # d/dw (3w)^2, untouched by fn's return


def test_tensor_hook_is_gone_after_the_with_block():
    w = torch.randn(5, requires_grad=True)
    y = w * 3
    with hook_tensor(y) as hook:
        pass
    (y**2).sum().backward()
    assert hook.stored is None and hook.removed


# --------------------------------------------------------------------------- ActivationsAndGradients


def _cut_grads(net, x, k, class_index):
    """The output of net[:k] and d(logit class_index summed over the batch)/d(that output)."""
    a = net[:k](x).detach().requires_grad_()
    (g,) = torch.autograd.grad(net[k:](a.clone())[:, class_index].sum(), a)  # clone: in-place ops
    return a.detach(), g


@pytest.mark.parametrize("frozen", [False, True])
def test_activations_and_gradients_equal_autograd(x, frozen):
    net = small_net()
    net.requires_grad_(not frozen)
    with ActivationsAndGradients(net, [net[1], net[2]]) as ag:
        ag(x)[:, 3].sum().backward()
    for i, k in enumerate([2, 3]):
        a, g = _cut_grads(net, x, k, 3)
        torch.testing.assert_close(ag.activations[i], a)
        torch.testing.assert_close(ag.gradients[i], g)
        assert not ag.activations[i].requires_grad and not ag.gradients[i].requires_grad
    assert count_hooks(net) == 0
    assert all(p.grad is None for p in net.parameters()) == frozen


def test_activations_and_gradients_records_before_an_inplace_op(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(4 * 49, 3))
    with ActivationsAndGradients(net, net[0]) as ag:
        ag(x)[:, 0].sum().backward()
    a, g = _cut_grads(net, x, 1, 0)
    assert (a < 0).any()
    torch.testing.assert_close(ag.activations[0], a)
    torch.testing.assert_close(ag.gradients[0], g)


def test_activations_and_gradients_leaves_no_tensor_hook_behind(x):
    net = small_net()
    with ActivationsAndGradients(net, net[2]) as ag:
        out = ag(x)
    out.sum().backward()  # the graph is still alive, but the tensor hook is gone
    assert ag.activations[0] is not None and ag.gradients[0] is None
    assert count_hooks(net) == 0


def test_activations_and_gradients_release_hooks_when_backward_raises(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), BackwardBoom(), nn.Conv2d(4, 2, 3))
    with pytest.raises(RuntimeError, match="boom in backward"), ActivationsAndGradients(net, net[0]) as ag:
        ag(x).sum().backward()
    assert ag.gradients[0] is None and count_hooks(net) == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, match", [
    (lambda net: Hook("conv", lambda m, i, o: o), "needs an nn.Module"),
    (lambda net: Hook(net[0], "not a function"), "needs a function"),
    (lambda net: Hooks([], lambda m, i, o: o), "empty list"),
    (lambda net: Hooks(net, lambda m, i, o: o), "takes a list of modules"),
    (lambda net: Hooks([net[0], "relu"], lambda m, i, o: o), r"item 1\) needs an nn.Module"),
    (lambda net: hook_outputs([net[0], 3]), r"item 1\) needs an nn.Module"),
    (lambda net: TensorHook(torch.ones(3)), "requires grad"),
    (lambda net: TensorHook([1.0]), "needs a torch.Tensor"),
    (lambda net: ActivationsAndGradients(net, []), "no layers"),
    (lambda net: ActivationsAndGradients(net, [net[0], nn.Conv2d(1, 1, 1)]),
     r"layer 1 must be a module of the model .*a Conv2d that is not in it"),
    (lambda net: ActivationsAndGradients(nn.Conv2d(1, 1, 1).weight, []), "needs an nn.Module"),
    (lambda net: count_hooks([net]), "needs an nn.Module"),
])
def test_bad_input_raises_a_value_error_and_leaves_no_hook(make, match):
    net = small_net()
    with pytest.raises(ValueError, match=match):
        make(net)
    assert count_hooks(net) == 0


def test_activations_and_gradients_rejects_a_layer_that_returns_a_tuple():
    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    net = nn.Sequential(Pair())
    with pytest.raises(ValueError, match="not a tensor"), ActivationsAndGradients(net, net[0]) as ag:
        ag(torch.ones(1))
    assert count_hooks(net) == 0


# --------------------------------------------------------------------------- detach, every call kept


def test_detach_means_a_copy_of_its_own_in_hook_and_in_hook_output(x):
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True))
    with Hook(net[0], lambda m, i, o: o) as plain, hook_output(net[0]) as out:
        net(x)
    expected = net[0](x).detach()
    assert (expected < 0).any()  # the in-place ReLU zeroed these in the module's own output
    for stored in (plain.stored, out.stored):
        torch.testing.assert_close(stored, expected, rtol=0, atol=0)
        assert stored.grad_fn is None


def test_detached_copy_handles_tensors_in_tuples_lists_and_dicts_and_leaves_the_rest():
    from cnnlib.hooks import detached_copy

    t = torch.ones(2, requires_grad=True) * 2
    out = detached_copy({"a": (t, None), "b": [t, 3]})
    assert out["a"][1] is None and out["b"][1] == 3 and isinstance(out["a"], tuple)
    for copy in (out["a"][0], out["b"][0]):
        assert copy.grad_fn is None and copy.data_ptr() != t.data_ptr()
        torch.testing.assert_close(copy, t.detach())


def test_activations_and_gradients_keeps_every_call_of_a_reused_module_and_refuses_to_pick(x):
    relu = nn.ReLU()
    net = nn.Sequential(nn.Conv2d(3, 4, 3), relu, nn.Conv2d(4, 4, 3), relu, nn.Flatten(),
                        nn.LazyLinear(2))
    net(x)
    with ActivationsAndGradients(net, relu) as ag:
        ag(x)[:, 0].sum().backward()
    first = net[1](net[0](x))
    second = net[3](net[2](first))
    g_first, g_second = torch.autograd.grad(net[4:](second)[:, 0].sum(), [first, second])
    assert [tuple(a.shape) for a in ag.all_activations[0]] == [(2, 4, 7, 7), (2, 4, 5, 5)]
    torch.testing.assert_close(ag.all_gradients[0][0], g_first)
    torch.testing.assert_close(ag.all_gradients[0][1], g_second)
    with pytest.raises(ValueError, match=r"Layer 0 \(ReLU\) ran 2 times"):
        _ = ag.activations
    with pytest.raises(ValueError, match=r"Layer 0 \(ReLU\) ran 2 times"):
        _ = ag.gradients


def test_activations_and_gradients_backward_fills_no_parameter_grad(x):
    net = small_net()
    with ActivationsAndGradients(net, net[2]) as ag:
        ag.backward(ag(x)[:, 3].sum())
    a, g = _cut_grads(net, x, 3, 3)
    torch.testing.assert_close(ag.gradients[0], g)
    assert all(p.grad is None for p in net.parameters())
    assert count_hooks(net) == 0
