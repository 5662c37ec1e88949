"""The multi-channel explorer's Python side: what it embeds and what it refuses.

The page's arithmetic is tested against ``F.conv2d`` in Chromium
(tests/site/test_explore_channels_site.py)."""

import json
import re

import numpy as np
import pytest

from cnnlib import explore


def payload(widget) -> dict:
    blob = re.search(r'<script type="application/json" class="cnnx-data">(.*?)</script>',
                     widget.html, re.S).group(1)
    return json.loads(blob.replace("<\\/", "</"))


def test_the_page_gets_the_arrays_the_widget_reports():
    widget = explore.channels_explorer()
    data = payload(widget)
    assert widget.weight.shape == (2, 3, 3, 3) and widget.bias.tolist() == [1.0, -1.0]
    assert set(np.unique(widget.weight)) <= {-1.0, 0.0, 1.0}
    assert np.array_equal(np.array(data["weight"]), widget.weight)
    for im in data["images"]:
        assert np.allclose(np.array(im["values"]), widget.images[im["label"]], atol=1e-6)
    assert all(a.shape[0] == 3 and a.dtype == np.float32 for a in widget.images.values())


def test_the_seed_draws_other_weights_and_two_widgets_have_their_own_ids():
    a, b = explore.channels_explorer(seed=0), explore.channels_explorer(seed=1)
    assert not np.array_equal(a.weight, b.weight)
    ids = [re.search(r'id="(cnnx-[0-9a-f]+)"', w.html).group(1) for w in (a, b)]
    assert ids[0] != ids[1]


def test_uint8_images_are_scaled_to_0_1():
    rgb = np.full((3, 4, 4), 255, dtype=np.uint8)
    widget = explore.channels_explorer({"white": rgb})
    assert np.array_equal(widget.images["white"], np.ones((3, 4, 4), np.float32))


@pytest.mark.parametrize("kwargs, match", [
    ({"images": {"hwc": np.zeros((4, 4, 3))}}, "channels first"),
    ({"images": {"big": np.zeros((3, 13, 13))}}, "12×12"),
    ({"images": {}}, "empty"),
    ({"images": {"nan": np.full((3, 4, 4), np.nan)}}, "finite"),
    ({"stride": 4}, "stride"),
    ({"padding": -1}, "padding"),
    ({"images": {"tiny": np.zeros((3, 3, 3))}, "padding": 0, "stride": True}, "stride"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments_raise_a_value_error_that_says_what_to_change(kwargs, match):
    with pytest.raises(ValueError, match=match):
        explore.channels_explorer(**kwargs)
