"""Tests for jaxgen.logging: SummaryWriter, readers and Progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from jaxgen.logging import Progress, SummaryWriter, read_images, read_scalars
from jaxgen.logging.progress import format_duration

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCALARS = {1: {"d_loss": 1.25, "g_loss": 0.5}, 2: {"d_loss": 1.125, "g_loss": 0.75},
           3: {"d_loss": 0.3333, "g_loss": 2.0e-3}}


def _write_run(logdir: str) -> np.ndarray:
    rgb = np.random.default_rng(0).integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
    with SummaryWriter(logdir) as w:
        for step, values in SCALARS.items():
            w.scalars(step, values)
        w.images(3, {"samples": rgb, "grey": rgb[..., 0]})
    return rgb


def test_scalars_and_images_round_trip(tmp_path):
    logdir = str(tmp_path / "run")
    rgb = _write_run(logdir)
    scalars = read_scalars(logdir)
    assert set(scalars) == {"d_loss", "g_loss"}
    for tag, points in scalars.items():
        assert [s for s, _ in points] == [1, 2, 3]
        for step, value in points:
            assert value == pytest.approx(SCALARS[step][tag], rel=1e-6, abs=1e-6)
    images = read_images(logdir)
    assert set(images) == {"samples", "grey"}
    (step, decoded), = images["samples"]
    assert step == 3 and decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, rgb)
    np.testing.assert_array_equal(images["grey"][0][1], rgb[..., 0])


def test_metrics_jsonl(tmp_path):
    logdir = str(tmp_path / "run")
    _write_run(logdir)
    with open(os.path.join(logdir, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    assert rows == [{"step": s, **v} for s, v in SCALARS.items()]


def test_event_accumulator_reads_events(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    logdir = str(tmp_path / "run")
    _write_run(logdir)
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"d_loss", "g_loss"} <= set(tags["scalars"])
    assert {"samples", "grey"} <= set(tags["images"])
    assert [e.value for e in acc.Scalars("g_loss")] == pytest.approx([0.5, 0.75, 2.0e-3], rel=1e-6)
    img = acc.Images("samples")[0]
    assert (img.step, img.width, img.height) == (3, 10, 12)


def test_resume_dedups_steps(tmp_path):
    logdir = str(tmp_path / "run")
    with SummaryWriter(logdir) as w:
        w.scalars(1, {"x": 1.0})
        w.scalars(2, {"x": 2.0})
    with SummaryWriter(logdir) as w:  # a resumed run re-logs step 2
        w.scalars(2, {"x": 20.0})
        w.scalars(3, {"x": 3.0})
    assert read_scalars(logdir) == {"x": [(1, 1.0), (2, 20.0), (3, 3.0)]}


def test_disabled_writer_writes_nothing(tmp_path):
    logdir = tmp_path / "run"
    w = SummaryWriter(str(logdir), enabled=False)
    w.scalars(1, {"a": 1.0})
    w.images(1, {"img": np.zeros((4, 4, 3), np.uint8)})
    w.flush()
    w.close()
    assert not logdir.exists()


def test_image_validation(tmp_path):
    w = SummaryWriter(str(tmp_path / "run"))
    with pytest.raises(TypeError):
        w.images(0, {"f": np.zeros((4, 4, 3), np.float32)})
    with pytest.raises(ValueError):
        w.images(0, {"c2": np.zeros((4, 4, 2), np.uint8)})
    w.close()


def test_no_tensorflow_import(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from jaxgen.logging import SummaryWriter, read_scalars, read_images
        w = SummaryWriter({str(tmp_path / "run")!r})
        w.scalars(1, {{"loss": 0.5}})
        w.images(1, {{"img": np.zeros((8, 8, 3), np.uint8)}})
        w.flush()
        w.close()
        assert read_scalars({str(tmp_path / "run")!r}) == {{"loss": [(1, 0.5)]}}
        assert len(read_images({str(tmp_path / "run")!r})["img"]) == 1
        bad = [m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow.")]
        print("TF_MODULES", bad)
        sys.exit(1 if bad else 0)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TF_MODULES []" in proc.stdout


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_progress_rate_and_eta():
    clock = FakeClock()
    p = Progress(total_steps=5000, start_step=200, clock=clock)
    clock.t += 10.0  # 1000 steps in 10 s -> 100 steps/s, 3800 left -> 38 s
    line = p.update(1200, {"d_loss": 1.20449, "g_loss": 0.873})
    assert p.steps_per_sec == pytest.approx(100.0)
    assert p.eta_seconds == pytest.approx(38.0)
    assert line.startswith("step  1200/5000  24%")
    assert "100.00 steps/s" in line and "ETA 38s" in line
    assert "d_loss 1.204" in line and "g_loss 0.873" in line

    clock.t += 400.0  # rate measured since the previous update: 800 steps / 400 s = 2/s
    line = p.update(2000, {"loss": 123456.0})
    assert p.steps_per_sec == pytest.approx(2.0)
    assert p.eta_seconds == pytest.approx(1500.0)
    assert "2.00 steps/s" in line and "ETA 25m00s" in line and "loss 1.235e+05" in line


def test_progress_no_progress_and_done():
    clock = FakeClock()
    p = Progress(10, clock=clock)
    assert "ETA ?" in p.update(0)  # no steps and no time elapsed
    clock.t += 1.0
    line = p.update(10)
    assert "100%" in line and "ETA 0s" in line


@pytest.mark.parametrize("seconds, text", [(42, "42s"), (0.4, "0s"), (1115, "18m35s"),
                                           (3720, "1h02m"), (90000, "25h00m"),
                                           (float("inf"), "?")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_resume_order_survives_many_writers_in_one_process(tmp_path):
    """Writer files are named ...<pid>.<n>; the 10th must not sort before the 9th."""
    warm = tmp_path / "warm"
    for _ in range(20):  # advance the per-process counter to n = 7 (mod 10)
        with SummaryWriter(str(warm)) as w:
            w.scalars(0, {"x": 0.0})
        newest = max(int(p.name.rsplit(".", 1)[1]) for p in warm.glob("events.out.tfevents.*"))
        if newest % 10 == 7:
            break
    logdir = str(tmp_path / "run")  # its files are n = 8, 9, 10, ...
    for value in range(12):  # twelve resumes re-logging step 1
        with SummaryWriter(logdir) as w:
            w.scalars(1, {"x": float(value)})
    assert read_scalars(logdir) == {"x": [(1, 11.0)]}
