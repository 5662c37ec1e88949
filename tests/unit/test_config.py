import random

import numpy as np
import pytest
import torch

from cnnlib import config


def test_mode_env_override_wins(monkeypatch):
    monkeypatch.setenv("CNNLIB_MODE", "full")
    assert config.mode() == "full"
    monkeypatch.setenv("CNNLIB_MODE", " Quick ")
    assert config.mode() == "quick"


def test_mode_defaults_to_full_only_with_cuda(monkeypatch):
    monkeypatch.delenv("CNNLIB_MODE", raising=False)
    assert config.mode() == ("full" if torch.cuda.is_available() else "quick")


def test_unknown_mode_is_rejected_with_the_valid_choices(monkeypatch):
    monkeypatch.setenv("CNNLIB_MODE", "fast")
    with pytest.raises(ValueError, match="'quick' or 'full'"):
        config.mode()


def test_pick_follows_the_mode(monkeypatch):
    monkeypatch.setenv("CNNLIB_MODE", "quick")
    assert config.pick(quick=1, full=5) == 1
    monkeypatch.setenv("CNNLIB_MODE", "full")
    assert config.pick(quick=1, full=5) == 5


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    def draws():
        config.seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    assert draws() == draws()


def test_describe_names_mode_and_device(monkeypatch):
    monkeypatch.setenv("CNNLIB_MODE", "quick")
    line = config.describe()
    assert "mode: quick" in line and f"device: {config.device().type}" in line


@pytest.mark.parametrize("seed", [True, -1, 1.0, "0"])
def test_seed_everything_rejects_anything_but_a_non_negative_int(seed):
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        config.seed_everything(seed)
