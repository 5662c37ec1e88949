"""cnnlib.check: each check returns what it accepts and rejects with a message that names the argument."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnlib import check


def test_is_int_refuses_bools_and_floats():
    assert check.is_int(3) and check.is_int(0) and check.is_int(-2)
    assert not any(check.is_int(v) for v in (True, False, 3.0, "3", None, np.float64(3)))


def test_int_where_returns_the_int_or_says_what_it_must_be():
    assert check.int_where("size", 5, lambda s: s % 2 == 1, "odd") == 5
    for bad in (4, True, 5.0, "5", None):
        with pytest.raises(ValueError, match=r"^size must be odd, got "):
            check.int_where("size", bad, lambda s: s % 2 == 1, "odd")


def test_number_and_positive_take_finite_ints_and_floats_only():
    assert check.number("mean", -0.5) == -0.5 and check.positive("std", 2) == 2
    for bad in (True, "1", None, float("nan"), float("inf"), torch.tensor(1.0)):
        with pytest.raises(ValueError, match="mean must be a finite number"):
            check.number("mean", bad)
    for bad in (0, -1.0, False, "2"):
        with pytest.raises(ValueError, match="sigma must be a positive number of pixels"):
            check.positive("sigma", bad, " of pixels")


def test_instance_raises_a_type_error_naming_the_argument_and_what_it_got():
    check.instance("model", torch.nn.ReLU(), torch.nn.Module, "an nn.Module")
    with pytest.raises(TypeError, match="^model must be an nn.Module, got str.$"):
        check.instance("model", "relu", torch.nn.Module, "an nn.Module")


def test_tensor_checks_the_type_and_the_number_of_dimensions():
    check.tensor("x", torch.zeros(1, 2, 3, 4), "N, C, H, W")
    with pytest.raises(ValueError, match=r"x must be a tensor of shape \(N, C, H, W\), got shape \(3,\)"):
        check.tensor("x", torch.zeros(3), "N, C, H, W")
    with pytest.raises(ValueError, match="got ndarray"):
        check.tensor("x", np.zeros((1, 2, 3, 4)), "N, C, H, W")


def test_loader_accepts_iterables_of_batches_and_refuses_strings_tensors_and_empty_ones():
    check.loader("loader", DataLoader(TensorDataset(torch.zeros(2, 1), torch.zeros(2)), batch_size=1))
    check.loader("loader", [(torch.zeros(1), torch.zeros(1))])
    for bad in ("batches", torch.zeros(3), np.zeros(3), 5, None):
        with pytest.raises(ValueError, match="loader must be a DataLoader"):
            check.loader("loader", bad)
    with pytest.raises(ValueError, match="loader is empty"):
        check.loader("loader", [])
