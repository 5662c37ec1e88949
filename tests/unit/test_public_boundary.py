"""Every public function of cnnlib answers a wrong-typed argument with an error of its own.

A new user passes None, a string, an int, a 1-D tensor, a NumPy array or a bool where a
function needs something else. The sweep finds every public function of every cnnlib module
(by introspection, so a new function joins it), calls it with the valid arguments of
:data:`VALID` except one required argument, which gets each wrong value in turn, and checks
what comes back: the call may accept the value (an int is a valid ``kernel_size``), but what
it raises must be a ValueError or TypeError raised by cnnlib's own code, whose message names
the argument, never an AttributeError, IndexError or RuntimeError from deep inside torch or
NumPy (CONTRIBUTING.md, where library code lives: argument checks).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import traceback
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import cnnlib  # noqa: E402
from cnnlib import animate, data, train  # noqa: E402
from cnnlib.explore import digits  # noqa: E402
from cnnlib.models import inception  # noqa: E402

PACKAGE = Path(cnnlib.__file__).parent

BAD = {
    "None": None,
    "a string": "text",
    "an int": 7,
    "a 1-D tensor": torch.ones(3),
    "a NumPy array": np.ones((4, 4), dtype=np.float32),
    "a bool": True,
}

EXEMPT = {
    "cnnlib.check": "the checks themselves: `name` is the text their messages name (test_check.py)",
    "cnnlib.config.pick": "returns the quick or the full value, whatever they are",
}

NOT_YET = {
    # Printed whole in chapters 13 and 14, whose stored runs the prose quotes: a check added
    # inside them changes the stored source, so each waits for that chapter's next
    # re-execution. Listed one by one so that a function that starts to pass is noticed.
    # A key is a function, "function(arg)" for one argument, or "function(arg=label)" for one
    # wrong value of it (the others are accepted, which the sweep allows).
    "cnnlib.cam.target_score": "printed in chapter 14: needs check.tensor for logits and targets",
    "cnnlib.cam.min_max_scale": "printed in chapter 14: needs check.tensor for maps",
    "cnnlib.cam.scale_and_resize": "printed in chapter 14: needs check.tensor (maps), check.int_pair (size)",
    "cnnlib.cam.activations_and_gradients(x)": "printed in chapter 14: needs check.float_batch for x",
    "cnnlib.hooks.hook_output": "printed in chapter 13 (as is Hook, whose check.module names it model): "
                                "needs check.module(..., arg='module')",
    **{f"cnnlib.hooks.output_gradient(grad_output={label})":
       "printed in chapter 13, and a callback PyTorch calls with a tuple: grad_output[0] unchecked"
       for label in ("None", "an int", "a bool")},
}

PRINTED_UNCHECKED = {
    # Printed whole by a chapter that trains: a check added here changes the stored output, so
    # it waits for that chapter's next re-execution (at the default two threads, which
    # reproduces the numbers its prose quotes).
    "cnnlib.models.simple.conv": "printed in chapter 6: needs check.int_at_least for ni, nf",
    "cnnlib.models.vgg.make_features": "printed in chapter 8: needs check.sequence for config",
}


# --------------------------------------------------------------------------- valid arguments


def _cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 3))


def _basic_block() -> nn.Module:
    from cnnlib.models.resnet import BasicBlock
    return BasicBlock(4, 4)


def _digit_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 13 * 13, 10))


def _image_set(n: int = 10) -> data.ImageSet:
    return data.ImageSet(images=torch.randint(0, 256, (n, 1, 4, 4), dtype=torch.uint8),
                         labels=torch.arange(n) % 2, classes=("a", "b"))


def _batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(torch.randn(3, 1, 2, 2), torch.tensor([0, 1, 0]))]


def _linear() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


def _training() -> dict[str, object]:
    model = _linear()
    return {"model": model, "opt": torch.optim.SGD(model.parameters(), lr=0.1)}


def _history() -> train.History:
    return train.History(train_loss=[1.0], valid_loss=[1.0], valid_accuracy=[0.5], seconds=[1.0],
                         batch_loss=[1.0, 0.5], batch_lr=[0.1, 0.1])


def _cam_model() -> dict[str, object]:
    model = _cnn()
    return {"model": model, "target_layer": model[1], "x": torch.rand(1, 3, 8, 8)}


def _rf_row():
    from cnnlib import receptive

    return receptive.receptive_field(nn.Sequential(nn.Conv2d(3, 3, 3, stride=2)), 8)[-1]


Kwargs = Callable[[], dict[str, object]]

VALID: dict[str, Kwargs] = {
    "cnnlib.animate.conv_windows": lambda: {"in_size": 5, "kernel_size": 3},
    "cnnlib.animate.describe": lambda: {"in_size": 5, "kernel_size": 3},
    "cnnlib.animate.conv_animation": lambda: {"in_size": 4, "kernel_size": 3, "max_frames": 4},
    "cnnlib.animate.to_html": lambda: {"anim": animate.conv_animation(4, 3, max_frames=4),
                                       "description": "a 3x3 kernel on a 4x4 input"},
    "cnnlib.cam.grad_cam": _cam_model,
    "cnnlib.cam.grad_cam_pp": _cam_model,
    "cnnlib.cam.cam": lambda: (lambda m: {"model": m, "x": torch.rand(1, 3, 8, 8), "features": m[1],
                                          "classifier": m[4]})(_cnn()),
    "cnnlib.cam.saliency": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8)},
    "cnnlib.cam.activations_and_gradients": lambda: (lambda m: {"model": m, "layer": m[1],
                                                                "x": torch.rand(1, 3, 8, 8)})(_cnn()),
    "cnnlib.cam.class_indices": lambda: {"target": None, "logits": torch.zeros(2, 3)},
    "cnnlib.cam.eval_mode": lambda: {"model": _linear()},
    "cnnlib.cam.min_max_scale": lambda: {"maps": torch.rand(2, 4, 4)},
    "cnnlib.cam.scale_and_resize": lambda: {"maps": torch.rand(2, 4, 4), "size": (8, 8)},
    "cnnlib.cam.target_score": lambda: {"logits": torch.zeros(2, 3), "targets": torch.tensor([0, 2])},
    "cnnlib.cam.score_cam": _cam_model,
    "cnnlib.attribution.integrated_gradients": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8)},
    "cnnlib.attribution.occlusion": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8)},
    "cnnlib.attribution.guided_backprop": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8)},
    "cnnlib.planted.box_masks": lambda: {"boxes": torch.tensor([[1, 1, 3, 3]]), "size": 4},
    "cnnlib.faithfulness.pointing_game": lambda: {"maps": torch.rand(1, 4, 4),
                                                  "boxes": torch.tensor([[1, 1, 3, 3]])},
    "cnnlib.faithfulness.mass_in_box": lambda: {"maps": torch.rand(1, 4, 4),
                                                "boxes": torch.tensor([[1, 1, 3, 3]])},
    "cnnlib.faithfulness.deletion_insertion": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8),
                                                       "maps": torch.rand(1, 8, 8), "steps": 2,
                                                       "blur_kernel": 3},
    "cnnlib.faithfulness.curve_area": lambda: {"fractions": [0.0, 1.0], "curves": np.ones((2, 2))},
    "cnnlib.faithfulness.noisy_linear_impute": lambda: {"x": torch.rand(1, 3, 4, 4),
                                                        "keep": torch.rand(1, 4, 4) > 0.5},
    "cnnlib.faithfulness.road": lambda: {"model": _cnn(), "x": torch.rand(1, 3, 8, 8),
                                         "maps": torch.rand(1, 8, 8), "removed": [0.5]},
    "cnnlib.config.device_of": lambda: {"model": _linear()},
    "cnnlib.data.fetch": lambda: {"name": "imagenette/classes.csv", "download": False},
    "cnnlib.data.subset": lambda: {"s": _image_set()},
    "cnnlib.data.split": lambda: {"s": _image_set(), "n_valid": 2},
    "cnnlib.data.sample_image": lambda: {"name": "camera"},
    "cnnlib.exercises.core.exercise": lambda: {"key": "0.1", "title": "t", "answer": "a",
                                               "passed": "p"},
    "cnnlib.exercises.core.get": lambda: {"key": "16.1"},
    "cnnlib.exercises.core.check": lambda: {"key": "16.1", "answer": None},
    "cnnlib.exercises.core.filled": lambda: {"value": 1},
    "cnnlib.exercises.core.call": lambda: {"fn": lambda: 1},
    "cnnlib.explore.quiz.quiz": lambda: {"question": "?",
                                         "options": [("a", True, "x"), ("b", False, "y")]},
    "cnnlib.explore.convolution.rejection": lambda: {"size": 5, "kernel_size": 3},
    "cnnlib.explore.digits.mnist_style": lambda: {"image": np.eye(8)},
    "cnnlib.explore.digits.normalize": lambda: {"image28": np.zeros((28, 28))},
    "cnnlib.explore.digits.export_layers": lambda: {"model": _digit_net()},
    "cnnlib.explore.digits.run_layers": lambda: {"layers": digits.export_layers(_digit_net()),
                                                 "x": torch.rand(1, 1, 28, 28)},
    "cnnlib.explore.digits.draw_digit": lambda: {"model": _digit_net(), "samples": False},
    "cnnlib.hooks.count_hooks": lambda: {"model": _linear()},
    "cnnlib.hooks.detached_copy": lambda: {"x": torch.ones(2)},
    "cnnlib.hooks.output_of": lambda: {"module": nn.ReLU(), "inputs": (torch.ones(2),),
                                       "output": torch.ones(2)},
    "cnnlib.hooks.output_gradient": lambda: {"module": nn.ReLU(), "grad_input": (torch.ones(2),),
                                             "grad_output": (torch.ones(2),)},
    "cnnlib.hooks.hook_output": lambda: {"module": nn.ReLU()},
    "cnnlib.hooks.hook_outputs": lambda: {"modules": [nn.ReLU()]},
    "cnnlib.hooks.hook_tensor": lambda: {"tensor": torch.ones(2, requires_grad=True)},
    "cnnlib.images.normalize": lambda: {"x": torch.rand(2, 3, 4, 4)},
    "cnnlib.images.denormalize": lambda: {"x": torch.rand(2, 3, 4, 4)},
    "cnnlib.images.check_images": lambda: {"x": torch.rand(2, 3, 4, 4), "name": "normalize"},
    "cnnlib.images.channel_params": lambda: {"x": torch.rand(2, 3, 4, 4), "mean": (0.5, 0.5, 0.5),
                                             "std": (0.2, 0.2, 0.2), "name": "normalize"},
    "cnnlib.images.channel_stats": lambda: {"images": torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)},
    "cnnlib.kernels.get": lambda: {"name": "sobel_x"},
    "cnnlib.loaders.tensor_loaders": lambda: {"train": _image_set(), "valid": _image_set(4)},
    "cnnlib.loaders.random_shift": lambda: {"x": torch.rand(2, 1, 4, 4)},
    "cnnlib.loaders.random_flip": lambda: {"x": torch.rand(2, 1, 4, 4)},
    "cnnlib.models.convnext.norm_layer": lambda: {"kind": "batch", "channels": 4},
    "cnnlib.models.convnext.roadmap_net": lambda: {"step": 0},
    "cnnlib.models.lenet.check_input": lambda: {"x": torch.rand(1, 1, 32, 32)},
    "cnnlib.models.mobilenet.init_weights": lambda: {"model": _cnn()},
    "cnnlib.models.lenet.discriminative_loss": lambda: {"scores": torch.zeros(2, 10),
                                                        "target": torch.zeros(2, dtype=torch.int64)},
    "cnnlib.models.resnet.conv3x3": lambda: {"in_planes": 2, "out_planes": 3},
    "cnnlib.models.resnet.conv1x1": lambda: {"in_planes": 2, "out_planes": 3},
    "cnnlib.models.resnet.init_weights": lambda: {"model": _cnn()},
    "cnnlib.models.resnet.cifar_resnet": lambda: {"depth": 8},
    "cnnlib.models.simple.conv": lambda: {"ni": 1, "nf": 2},
    "cnnlib.models.inception.branch_labels": lambda: {"module": inception.InceptionA(8, pool_features=4)},
    "cnnlib.models.vgg.make_features": lambda: {"config": [4, "M"]},
    "cnnlib.models.vgg.make_classifier": lambda: {"in_features": 4, "width": 3, "num_classes": 2},
    "cnnlib.models.vgg.vgg": lambda: {"depth": 11, "num_classes": 2},
    # 16 x 16, so that the int of BAD (7) is a kernel_size or dilation that fits: right type, right size
    "cnnlib.ops.windows": lambda: {"x": torch.rand(1, 1, 16, 16), "kernel_size": (3, 3), "stride": (1, 1),
                                   "dilation": (1, 1)},
    "cnnlib.ops.as_batch": lambda: {"x": torch.rand(1, 1, 4, 4), "op": "conv2d"},
    "cnnlib.ops.check_fits": lambda: {"x": torch.rand(1, 1, 16, 16), "kernel_size": (3, 3), "stride": (1, 1),
                                      "padding": (0, 0), "dilation": (1, 1)},
    "cnnlib.ops.pool_args": lambda: {"kernel_size": 2, "stride": None, "padding": 0},
    "cnnlib.ops.conv2d_args": lambda: {"x": torch.rand(1, 1, 5, 5), "weight": torch.rand(2, 1, 3, 3),
                                       "bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1},
    "cnnlib.ops.conv2d": lambda: {"x": torch.rand(1, 1, 5, 5), "weight": torch.rand(2, 1, 3, 3)},
    "cnnlib.ops.pool_windows": lambda: {"x": torch.rand(1, 1, 4, 4), "kernel_size": 2, "stride": None,
                                        "padding": 0, "op": "max_pool2d", "fill": 0.0},
    "cnnlib.ops.max_pool2d": lambda: {"x": torch.rand(1, 1, 4, 4), "kernel_size": 2},
    "cnnlib.ops.avg_pool2d": lambda: {"x": torch.rand(1, 1, 4, 4), "kernel_size": 2},
    "cnnlib.plot.overlay": lambda: {"image": np.zeros((8, 8, 3), dtype=np.uint8),
                                    "heatmap": np.zeros((8, 8), dtype=np.float32)},
    "cnnlib.plot.layer_label": lambda: {"module": nn.Conv2d(2, 4, 3)},
    "cnnlib.plot.block_labels": lambda: {"module": _cnn()},
    "cnnlib.plot.show_block": lambda: {"module": _cnn()},
    "cnnlib.plot.show_blocks": lambda: {"blocks": [("a block", _cnn(), "+")]},
    "cnnlib.plot.show_layer_stacks": lambda: {"stacks": [("a net", [("input", "input"), ("conv", "conv")])]},
    "cnnlib.plot.show_branches": lambda: {"branches": [["1×1, 4"], ["pool"]], "bottom": "in", "top": "out"},
    "cnnlib.plot.show_modules": lambda: {"modules": [("A", [["1×1, 4"]], "in", "out")]},
    "cnnlib.plot.show_residual_block": lambda: {"block": _basic_block()},
    "cnnlib.plot.to_numpy_image": lambda: {"image": torch.rand(3, 4, 4)},
    "cnnlib.plot.show_images": lambda: {"images": [np.zeros((4, 4))]},
    "cnnlib.plot.show_kernel": lambda: {"kernel": torch.ones(3, 3)},
    "cnnlib.plot.show_kernels": lambda: {"kernels": [torch.ones(3, 3)]},
    "cnnlib.plot.show_feature_maps": lambda: {"maps": torch.rand(2, 4, 4)},
    "cnnlib.plot.plot_history": lambda: {"history": _history()},
    "cnnlib.plot.show_confusion_matrix": lambda: {"cm": np.eye(2, dtype=int), "classes": ["a", "b"]},
    "cnnlib.plot.show_kernel_effects": lambda: {"kernels": [torch.ones(3, 3)], "images": [np.zeros((4, 4))]},
    "cnnlib.receptive.receptive_field": lambda: {"layers": [nn.Conv2d(1, 1, 3)]},
    "cnnlib.receptive.measured_receptive_field": lambda: {"model": nn.Sequential(nn.Conv2d(1, 1, 3)),
                                                          "input_size": 8},
    "cnnlib.shapes.conv_out": lambda: {"size": 5, "kernel_size": 3},
    "cnnlib.shapes.sequential_layers": lambda: {"layers": nn.Sequential(nn.ReLU())},
    "cnnlib.shapes.conv_params": lambda: {"in_ch": 1, "out_ch": 2, "kernel_size": 3},
    "cnnlib.shapes.conv_macs": lambda: {"in_ch": 1, "out_ch": 2, "kernel_size": 3, "out_size": 4},
    "cnnlib.shapes.layer_counts": lambda: {"model": nn.Sequential(nn.Conv2d(1, 2, 3)),
                                           "input_shape": (1, 8, 8)},
    "cnnlib.shifts.shift": lambda: {"x": torch.rand(1, 1, 4, 4), "offset": 1},
    "cnnlib.shifts.equivariance_error": lambda: {"f": nn.ReLU(), "x": torch.rand(1, 1, 4, 4), "offset": 1},
    "cnnlib.shifts.binomial_filter": lambda: {"size": 3},
    "cnnlib.shifts.antialias": lambda: {"model": nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3, stride=2),
                                                                            nn.ReLU()))},
    "cnnlib.shifts.check_model_inputs": lambda: {"model": _cnn(), "x": torch.rand(2, 3, 8, 8),
                                                 "max_shift": 1},
    "cnnlib.shifts.offsets": lambda: {"max_shift": 1},
    "cnnlib.shifts.predict": lambda: {"model": _cnn(), "x": torch.rand(2, 3, 8, 8)},
    "cnnlib.shifts.shift_consistency": lambda: {"model": _cnn(), "x": torch.rand(2, 3, 8, 8), "max_shift": 1},
    "cnnlib.shifts.true_class_probability": lambda: {"model": _cnn(), "x": torch.rand(2, 3, 8, 8),
                                                     "labels": torch.tensor([0, 2]), "max_shift": 1},
    "cnnlib.featvis.layer_activations": lambda: (lambda m: {"model": m, "layers": [m[1]],
                                                            "x": torch.rand(2, 3, 8, 8)})(_cnn()),
    "cnnlib.featvis.top_patches": lambda: {"acts": torch.rand(2, 3, 4, 4), "channel": 1},
    "cnnlib.featvis.patch_box": lambda: {"rf": _rf_row(), "row": 1, "col": 2, "size": 8},
    "cnnlib.featvis.rfft2d_freqs": lambda: {"h": 4, "w": 6},
    "cnnlib.featvis.fourier_image": lambda: {"spectrum": torch.rand(1, 3, 4, 3, 2), "h": 4, "w": 4},
    "cnnlib.featvis.colour_sqrt": lambda: {"x": torch.rand(2, 3, 4, 4)},
    "cnnlib.featvis.decorrelate": lambda: {"x": torch.rand(1, 3, 4, 4), "colour": torch.eye(3)},
    "cnnlib.featvis.to_rgb": lambda: {"x": torch.rand(1, 3, 4, 4)},
    "cnnlib.featvis.random_transform": lambda: {"x": torch.rand(1, 3, 4, 4),
                                                "generator": torch.Generator().manual_seed(0)},
    "cnnlib.featvis.gram_similarity": lambda: {"acts": torch.rand(2, 3, 4, 4)},
    "cnnlib.featvis.channel_objective": lambda: {"out": torch.rand(2, 3, 4, 4), "channels": [0, 2]},
    "cnnlib.featvis.channel_means": lambda: {"model": nn.Conv2d(3, 4, 3), "x": torch.rand(2, 3, 8, 8),
                                             "channels": [0, 3]},
    "cnnlib.featvis.visualise": lambda: {"model": nn.Conv2d(3, 4, 3), "channels": [0, 3], "size": 8,
                                         "steps": 1},
    "cnnlib.featvis.high_frequency_energy": lambda: {"x": torch.rand(1, 3, 8, 8)},
    "cnnlib.featvis.classes_overlap": lambda: {"probs_a": torch.rand(2, 6), "probs_b": torch.rand(2, 6)},
    "cnnlib.stats.t_cdf": lambda: {"t": 1.0, "df": 3},
    "cnnlib.stats.t_quantile": lambda: {"q": 0.975, "df": 3},
    "cnnlib.stats.mean_ci": lambda: {"values": [1.0, 2.0, 4.0]},
    "cnnlib.stats.bootstrap_ci": lambda: {"values": [1.0, 2.0, 4.0], "n": 100},
    "cnnlib.stats.mcnemar": lambda: {"correct_a": [True, False, True], "correct_b": [True, True, False]},
    "cnnlib.stats.spearman": lambda: {"x": [1.0, 2.0, 4.0], "y": [1.0, 3.0, 2.0]},
    "cnnlib.stats.permutation_p": lambda: {"x": [1.0, 2.0, 4.0], "y": [1.0, 3.0, 2.0]},
    "cnnlib.train.evaluate": lambda: {"model": _linear(), "loader": _batches()},
    "cnnlib.train.train_epoch": lambda: {**_training(), "loader": _batches()},
    "cnnlib.train.fit": lambda: {**_training(), "train_loader": _batches(), "valid_loader": _batches(),
                                 "epochs": 1, "progress": False},
}
"""For each public function with required arguments: valid keyword arguments (fresh each call)."""


# --------------------------------------------------------------------------- the sweep


def public_functions() -> dict[str, Callable]:
    """Every public function defined in a cnnlib module, by its qualified name."""
    found = {}
    for info in pkgutil.walk_packages(cnnlib.__path__, "cnnlib."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == info.name:
                found[f"{info.name}.{name}"] = obj
    return found


def required(fn: Callable) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind in kinds]


def exempt(qualname: str) -> bool:
    return any(qualname == key or qualname.startswith(key + ".") for key in EXEMPT)


FUNCTIONS = {q: f for q, f in public_functions().items() if required(f) and not exempt(q)}
CASES = [(q, arg, label) for q, f in FUNCTIONS.items() for arg in required(f) for label in BAD]


def _param(qualname: str, arg: str, label: str):
    marks = []
    keys = (f"{qualname}({arg}={label})", f"{qualname}({arg})", qualname)
    reason = next((NOT_YET[k] for k in keys if k in NOT_YET), None)
    if reason is not None:
        marks = [pytest.mark.xfail(reason=reason, strict=True)]
    elif qualname in PRINTED_UNCHECKED:
        marks = [pytest.mark.xfail(reason=PRINTED_UNCHECKED[qualname], strict=False)]
    return pytest.param(qualname, arg, label, id=f"{qualname.removeprefix('cnnlib.')}-{arg}-{label}",
                        marks=marks)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def raised_in_cnnlib(err: BaseException) -> bool:
    """Whether the innermost frame of ``err``'s traceback is cnnlib's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def test_every_public_function_with_required_arguments_has_valid_ones_in_the_table():
    missing = sorted(set(FUNCTIONS) - set(VALID))
    assert not missing, f"add valid arguments for these to VALID: {missing}"


@pytest.mark.parametrize("qualname", sorted(VALID), ids=lambda q: q.removeprefix("cnnlib."))
def test_the_valid_arguments_are_accepted(qualname):
    FUNCTIONS[qualname](**VALID[qualname]())


@pytest.mark.parametrize(("qualname", "arg", "label"), [_param(*case) for case in CASES])
def test_a_wrong_typed_argument_gets_an_error_from_cnnlib_that_names_it(qualname, arg, label):
    kwargs = {**VALID[qualname](), arg: BAD[label]}
    try:
        FUNCTIONS[qualname](**kwargs)
    except (ValueError, TypeError) as err:
        where = traceback.extract_tb(err.__traceback__)[-1]
        assert raised_in_cnnlib(err), (
            f"{type(err).__name__} from {where.filename}:{where.lineno}, not from cnnlib: {err}")
        assert re.search(rf"\b{re.escape(arg)}\b", str(err)), f"the message does not name {arg!r}: {err}"
    except Exception as err:  # noqa: BLE001  (anything else is what the sweep looks for)
        where = traceback.extract_tb(err.__traceback__)[-1]
        pytest.fail(f"{type(err).__name__} from {where.filename}:{where.lineno}: {err}")
