"""cnnlib.planted: deterministic canvases whose boxes hold the pasted digit."""

import pytest
import torch

from cnnlib import planted


def test_the_same_seed_gives_the_same_canvases_and_another_seed_others():
    a, b = planted.canvases("test", 20, seed=3), planted.canvases("test", 20, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, planted.canvases("test", 20, seed=4).images)


def test_the_box_holds_the_digit_and_clutter_stays_outside_it():
    c = planted.canvases("test", 50, clutter=0, seed=1)
    inside = planted.box_masks(c.boxes, 36)
    bright = c.images[:, 0] > 0.5  # the noise texture stays below 0.1
    assert bright.any() and not (bright & ~inside).any()
    assert c.images.shape == (50, 1, 36, 36) and c.marks is None
    assert ((c.boxes[:, 2] - c.boxes[:, 0]) == 16).all()


def test_a_full_shortcut_puts_each_mark_at_its_class_place():
    c = planted.canvases("train", 30, shortcut=1.0, seed=2)
    assert torch.equal(c.marks[:, 1], 2 + 3 * c.labels)
    rows = c.images[:, 0, 1:4]
    assert all(rows[k, :, c.marks[k, 1]:c.marks[k, 3]].min() == 1.0 for k in range(30))


def test_no_shortcut_puts_every_mark_at_a_random_place():
    c = planted.canvases("test", 200, shortcut=0.0, seed=2)
    agree = (c.marks[:, 1] == 2 + 3 * c.labels).float().mean()
    assert c.marks is not None and agree < 0.25


def test_box_masks_mark_the_box():
    m = planted.box_masks(torch.tensor([[1, 2, 3, 5]]), (4, 6))
    assert m.sum() == 6 and m[0, 1, 2] and not m[0, 3, 2]


def test_a_shortcut_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="shortcut"):
        planted.canvases(shortcut=1.5)
