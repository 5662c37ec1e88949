"""cnnlib.kernels: each kernel's defining property, checked against OpenCV where it has one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import data, kernels


def filter_reflect(image: np.ndarray, kernel: torch.Tensor) -> np.ndarray:
    """Cross-correlate a float32 (H, W) image with torch, padding like OpenCV's BORDER_REFLECT_101."""
    x = torch.from_numpy(image)[None, None]
    p = kernel.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), kernel[None, None])[0, 0].numpy()


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.sample_image("camera")[::4, ::4].astype(np.float32) / 255  # 128×128 keeps it fast


@pytest.mark.parametrize("name", list(kernels.KERNELS))
def test_every_kernel_is_a_float32_odd_square(name):
    k = kernels.get(name)
    assert k.dtype == torch.float32 and k.dim() == 2
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1


@pytest.mark.parametrize("size,sigma", [(3, 0.5), (5, 1.0), (7, 1.5), (9, 3.0), (1, 1.0)])
def test_gaussian_sums_to_one_and_matches_opencv(size, sigma):
    k = kernels.gaussian(size, sigma)
    g = cv2.getGaussianKernel(size, sigma)
    torch.testing.assert_close(k, torch.from_numpy((g @ g.T).astype(np.float32)))
    assert abs(float(k.sum()) - 1) < 1e-6


def test_gaussian_is_symmetric_and_peaks_at_the_centre():
    k = kernels.gaussian(7, 2.0)
    torch.testing.assert_close(k, k.T)
    torch.testing.assert_close(k, k.flip(0, 1))
    assert k.argmax() == 7 * 3 + 3


@pytest.mark.parametrize("name,dx,dy", [("sobel_x", 1, 0), ("sobel_y", 0, 1)])
def test_sobel_matches_opencv_sobel_on_a_photo(camera, name, dx, dy):
    expected = cv2.Sobel(camera, cv2.CV_32F, dx, dy, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(filter_reflect(camera, kernels.get(name)), expected, atol=1e-5)


def test_laplacian_matches_opencv_laplacian(camera):
    expected = cv2.Laplacian(camera, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(filter_reflect(camera, kernels.laplacian(4)), expected, atol=1e-5)


def test_box_blur_matches_opencv_blur(camera):
    expected = cv2.blur(camera, (5, 5), borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(filter_reflect(camera, kernels.box_blur(5)), expected, atol=1e-6)


def test_sobel_x_is_positive_where_the_image_brightens_to_the_right():
    ramp = torch.arange(8.0).repeat(8, 1)  # brighter to the right, constant down
    x = ramp[None, None]
    assert (F.conv2d(x, kernels.sobel_x()[None, None]) > 0).all()
    assert (F.conv2d(x, kernels.sobel_y()[None, None]) == 0).all()


@pytest.mark.parametrize("name", ["identity", "box_blur", "gaussian", "sharpen", "emboss"])
def test_kernels_summing_to_one_preserve_a_constant_image(name):
    x = torch.full((1, 1, 9, 9), 0.7)
    out = F.conv2d(x, kernels.get(name)[None, None])
    torch.testing.assert_close(out, torch.full_like(out, 0.7))


@pytest.mark.parametrize("name", ["sobel_x", "sobel_y", "laplacian", "outline"])
def test_derivative_kernels_give_zero_on_a_constant_image(name):
    x = torch.full((1, 1, 9, 9), 0.7)
    out = F.conv2d(x, kernels.get(name)[None, None])
    torch.testing.assert_close(out, torch.zeros_like(out))


def test_related_kernels_agree():
    torch.testing.assert_close(kernels.sharpen(), kernels.identity() - kernels.laplacian(4))
    torch.testing.assert_close(kernels.outline(), -kernels.laplacian(8))
    torch.testing.assert_close(kernels.sobel_y(), kernels.sobel_x().T)


def test_identity_returns_the_image(camera):
    x = torch.from_numpy(camera)[None, None]
    torch.testing.assert_close(F.conv2d(x, kernels.identity(5)[None, None], padding=2), x)


def test_get_passes_parameters_and_returns_a_fresh_tensor():
    torch.testing.assert_close(kernels.get("gaussian", size=7, sigma=2.0), kernels.gaussian(7, 2.0))
    k = kernels.get("sobel_x")
    k.zero_()
    assert kernels.get("sobel_x").abs().sum() == 8


def test_get_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown kernel 'blur'.*box_blur.*gaussian"):
        kernels.get("blur")


@pytest.mark.parametrize("size", [0, 2, -3, 4.0, True])
def test_even_or_non_positive_sizes_are_rejected(size):
    with pytest.raises(ValueError, match="size must be an odd int >= 1"):
        kernels.box_blur(size)


@pytest.mark.parametrize("sigma", [0, -1.0, "1"])
def test_non_positive_sigma_is_rejected(sigma):
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        kernels.gaussian(5, sigma)


def test_laplacian_neighbours_must_be_4_or_8():
    with pytest.raises(ValueError, match="neighbours must be 4"):
        kernels.laplacian(6)
