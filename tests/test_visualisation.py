"""Tests for jaxgen.visualisation: grids, PNG saving, scatter plots and curves."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from jaxgen.visualisation import (
    image_grid,
    labelled_grid,
    plot_curves,
    save_png,
    scatter_2d,
    scatter_panels,
)

RNG = np.random.default_rng(0)


def _assert_rgb(img: np.ndarray, min_side: int = 100) -> None:
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[-1] == 3
    assert min(img.shape[:2]) >= min_side


def test_grid_shape_greyscale():
    images = RNG.uniform(-1, 1, size=(64, 16, 16, 1)).astype(np.float32)
    grid = image_grid(images, nrow=8, padding=2)
    side = 8 * 16 + 9 * 2
    assert grid.shape == (side, side) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[2:18, 2:18], np.rint((images[0, ..., 0] + 1) * 127.5))
    np.testing.assert_array_equal(grid[2:18, 20:36], np.rint((images[1, ..., 0] + 1) * 127.5))
    assert np.all(grid[:2] == 255) and np.all(grid[:, 18:20] == 255)


def test_grid_pixel_mapping_and_clipping():
    images = np.array([-1.0, 1.0, 0.0, -3.0, 3.0]).reshape(5, 1, 1, 1)
    grid = image_grid(images, nrow=5, padding=0)
    np.testing.assert_array_equal(grid, [[0, 255, 128, 0, 255]])
    grid01 = image_grid(np.array([0.0, 1.0]).reshape(2, 1, 1, 1), nrow=2, padding=0,
                        value_range=(0.0, 1.0))
    np.testing.assert_array_equal(grid01, [[0, 255]])


def test_grid_non_square_default_nrow():
    grid = image_grid(np.full((10, 4, 5, 1), -1.0), padding=1)  # nrow = ceil(sqrt(10)) = 4
    assert grid.shape == (3 * 4 + 4, 4 * 5 + 5)
    assert np.all(grid[1:5, 1:6] == 0)  # first image
    assert np.all(grid[11:15, 7:12] == 0)  # last image (index 9): row 2, column 1
    assert np.all(grid[11:15, 13:25] == 255)  # blank cells (indices 10, 11)


def test_grid_colour():
    images = np.zeros((3, 4, 4, 3))
    images[..., 0] = 1.0  # red-ish: R=255, G=B=128
    grid = image_grid(images, nrow=3, padding=2)
    assert grid.shape == (8, 20, 3)
    np.testing.assert_array_equal(grid[2, 2], [255, 128, 128])
    with pytest.raises(ValueError):
        image_grid(np.zeros((2, 4, 4, 2)))


def test_save_png_round_trip(tmp_path):
    rgb = RNG.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    path = tmp_path / "a" / "b" / "img.png"
    save_png(path, rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb)
    grey = RNG.integers(0, 256, size=(5, 6, 1), dtype=np.uint8)
    save_png(str(path), grey)  # overwrite
    np.testing.assert_array_equal(np.asarray(Image.open(path)), grey[..., 0])
    assert os.listdir(path.parent) == ["img.png"]  # no temp files left
    with pytest.raises(TypeError):
        save_png(path, rgb.astype(np.float32))


def test_labelled_grid():
    images = RNG.uniform(-1, 1, size=(10, 5, 28, 28, 1))
    img = labelled_grid(images, row_labels=[f"c1={i}" for i in range(10)],
                        col_labels=["-2", "-1", "0", "1", "2"], title="InfoGAN")
    _assert_rgb(img, 300)
    assert img.shape[0] > img.shape[1]  # 10 rows x 5 cols is taller than wide
    plain = labelled_grid(RNG.uniform(-1, 1, size=(2, 3, 8, 8, 3)))
    _assert_rgb(plain, 100)


@pytest.mark.parametrize('label', ['kl', 'squared_hellinger', 'a much longer row label here'])
def test_labelled_grid_leaves_room_for_long_row_labels(label):
    """The row labels end inside the picture: its left edge stays background."""
    img = labelled_grid(np.ones((2, 3, 8, 8, 1)), row_labels=[label, 'b'], cell_px=40)
    assert (img[:, :3] == 255).all(), 'a row label is cut at the left edge'
    assert (img[:, :-3] < 128).any()  # and the label was drawn at all


def test_labelled_grid_title_wider_than_the_grid_is_not_cut():
    """A long title over a narrow grid: its first and last columns stay background (the
    figure widens), and the title is drawn."""
    title = 'truncation towards w_avg on layers < 8, a long title'
    img = labelled_grid(-np.ones((2, 2, 8, 8, 1)), col_labels=['noise 0', 'noise 1'],
                        title=title, cell_px=40)
    assert img.shape[1] >= 0.09 * len(title) * 100
    assert (img[:, :3] == 255).all() and (img[:, -3:] == 255).all()
    assert (img[:20] < 128).any()


def test_scatter_2d_draws_points(tmp_path):
    angles = np.arange(8) * 2 * np.pi / 8
    centers = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    samples = centers[RNG.integers(0, 8, 500)] + 0.05 * RNG.normal(size=(500, 2))
    img = scatter_2d(samples, centers, real=samples[:100], title="step 0")
    _assert_rgb(img, 300)
    blue = (img[..., 2].astype(int) - img[..., 0] > 60)
    red = (img[..., 0].astype(int) - img[..., 2] > 100) & (img[..., 1] < 100)
    assert blue.sum() > 50 and red.sum() > 20
    save_png(tmp_path / "s.png", img)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "s.png")), img)


def test_scatter_lim_and_empty():
    img = scatter_2d(np.zeros((0, 2)), lim=3.0)
    _assert_rgb(img, 300)
    assert (img < 250).any()  # axes still drawn


def test_scatter_panels():
    centers = np.array([[1.0, 0.0], [-1.0, 0.0]])
    panels = [(f"step {s}", RNG.normal(size=(200, 2))) for s in (0, 1000, 2000)]
    row = scatter_panels(panels, centers, suptitle="mode collapse")
    _assert_rgb(row, 200)
    assert row.shape[1] > 2.5 * row.shape[0]
    wrapped = scatter_panels(panels, centers, ncols=2)
    assert wrapped.shape[0] > row.shape[0]
    with pytest.raises(ValueError):
        scatter_panels([], centers)


def test_plot_curves():
    series = {"d_loss": [(i, 1.0 + np.exp(-i / 50)) for i in range(0, 500, 10)],
              "g_loss": [(i, 0.5) for i in range(0, 500, 10)], "empty": []}
    img = plot_curves(series, title="losses", hlines={"H(c) = ln 10": 2.3026})
    _assert_rgb(img, 300)
    assert (img < 200).any()
    # One point (a run evaluated once) shows only with markers; a log x axis takes it.
    def blue(image):  # matplotlib's first colour, C0 = (31, 119, 180)
        return int(np.sum((image[..., 2] > 150) & (image[..., 0] < 80)))
    one = {"test": [(300.0, 91.2)]}
    assert blue(plot_curves(one, logx=True, markers=True)) > blue(plot_curves(one, logx=True))
