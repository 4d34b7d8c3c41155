"""Every person through the single-person tracker's landmark filter (dynapose.people.smoothing):
made-up jittery tracks, then a jittery second person in a real video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from test_people import STANDING


def _jitter(pixels: np.ndarray) -> float:
    """Mean length (px) of the keypoints' second differences over time (frames with NaN
    neighbours left out)."""
    return float(np.nanmean(np.linalg.norm(np.diff(pixels, 2, axis=0), axis=-1)))


def test_a_jittery_track_is_smoothed_and_a_gap_restarts_the_filter() -> None:
    pytest.importorskip("mediapipe")
    from dynapose.people.smoothing import smooth_track

    rng = np.random.default_rng(0)
    truth = np.stack([STANDING * 2 + [300 + 2 * f, 200] for f in range(40)])
    noisy = truth + rng.normal(0, 3, truth.shape)
    noisy[20:23] = np.nan  # not seen: a gap
    conf = np.where(np.isfinite(noisy[..., 0]), 0.9, 0.0)
    conf[10:, 3] = 0.2  # one joint's confidence drops: eased in (visibility's low-pass)
    pixels, confidence = smooth_track(noisy, conf, side=640)
    assert np.isnan(pixels[20:23]).all() and (confidence[20:23] == 0).all()
    assert np.isfinite(pixels[:20]).all() and np.isfinite(pixels[23:]).all()
    assert _jitter(pixels) < 0.75 * _jitter(noisy)
    assert np.abs(pixels - truth)[23:].mean() < np.abs(noisy - truth)[23:].mean()
    np.testing.assert_allclose(pixels[[0, 23]], noisy[[0, 23]], atol=1e-3)  # each run starts
    assert 0.2 < confidence[10, 3] < 0.9 and confidence[19, 3] < confidence[10, 3]
    still = np.repeat(truth[:1], 10, axis=0)
    np.testing.assert_allclose(smooth_track(still, np.ones((10, 17)), 640)[0], still, atol=1e-3)


def test_a_jittery_second_person_is_smoothed(tmp_path: Path) -> None:
    """The person the single-person tracker follows and the one beside her, who shakes from
    frame to frame: both tracks come out smoother than the poses found frame by frame."""
    pytest.importorskip("mediapipe")
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image

    from dynapose.io.video import write_test_video
    from dynapose.people.predict import find_people

    rng = np.random.default_rng(1)
    photo = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((256, 256)))
    frames = []
    for i in range(16):
        shake = rng.integers(-6, 7, size=2)
        frames.append(np.concatenate([np.roll(photo, (0, i), axis=(0, 1)),
                                      np.roll(photo[:, ::-1], tuple(shake), axis=(0, 1))],
                                     axis=1))
    video = write_test_video(tmp_path / "shaky.mp4", np.stack(frames), fps=10.0)
    found = find_people(video, min_frames=4)
    tracks = found.tracking.tracks
    assert [t.id for t in tracks] == [1, 2] and all(t.found.all() for t in tracks)
    for track in tracks:
        right = np.nanmean(track.pixels[..., 0]) > 256
        raw = np.stack([next(p for p, _ in poses if (np.nanmean(p[:, 0]) > 256) == right)
                        for poses in found.poses])
        assert not np.allclose(track.pixels, raw)
        assert _jitter(track.pixels) < 0.8 * _jitter(raw), track.id
