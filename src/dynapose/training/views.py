"""Cameras placed where people film from, drawn per training window.

Human3.6M's four studio cameras are all about 1.8 m high, 4-6 m away, with one lens. Users film
with a phone on a table or held at the chest, a tripod at hip or eye height, a ceiling corner, a
broadcast zoom from far away. :func:`user_views` draws such a camera for each window, aimed at
the person, with these ranges (uniform unless said):

- vertical field of view 30-75 degrees (phones and webcams: 45-75; compacts: 30-50), and for
  one window in six a zoom lens of 8-30 degrees (broadcast, sport);
- the distance that makes a standing person fill 35-90 % of the frame's height;
- height above the floor 0.3-3.0 m (a phone on the floor or a table, a tripod at hip or eye
  height, a ceiling corner), never farther above or below the person than the distance allows;
- aimed at the person's pelvis shifted by up to a fifth of the frame (off-centre framing),
  which gives the pitch; roll N(0, 3 degrees), within +-10 degrees (hand-held, not levelled);
- images 1280 x 720, 1920 x 1080, 720 x 1280 (a phone held upright) or 1000 x 1000, principal
  point at the centre, no lens distortion.
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: (width, height) of the drawn images, px.
IMAGE_SIZES = ((1280, 720), (1920, 1080), (720, 1280), (1000, 1000))
#: The standing height (mm) the framing is computed for.
FRAMED_HEIGHT_MM = 1750.0


def user_views(rng: np.random.Generator, aim: np.ndarray, device: torch.device | str = "cpu"
               ) -> dict[str, torch.Tensor]:
    """One camera per window looking at `aim` ((B, 3) world mm, Z up: the person's pelvis):
    float32 tensors R (B, 3, 3) world -> camera, T (B, 3) camera centre mm, f, c (B, 2) px,
    k (B, 3), p (B, 2) zero, size (B, 2) = (width, height) px; the module docstring gives the
    ranges."""
    b = len(aim)
    vfov = np.radians(rng.uniform(30.0, 75.0, b))
    zoom = rng.random(b) < 1 / 6
    vfov[zoom] = np.radians(rng.uniform(8.0, 30.0, int(zoom.sum())))
    size = np.array(IMAGE_SIZES, dtype=np.float64)[rng.integers(0, len(IMAGE_SIZES), b)]
    fill = rng.uniform(0.35, 0.9, b)
    distance = np.maximum(FRAMED_HEIGHT_MM / fill / (2 * np.tan(vfov / 2)), 1200.0)
    height = rng.uniform(300.0, 3000.0, b)
    rise = np.clip(height - aim[:, 2], -0.8 * distance, 0.8 * distance)
    ground = np.sqrt(distance**2 - rise**2)
    azimuth = rng.uniform(-math.pi, math.pi, b)
    centre = aim + np.stack([ground * np.cos(azimuth), ground * np.sin(azimuth), rise], -1)
    # off-centre framing: aim up to a fifth of the frame away from the pelvis
    half_height = distance * np.tan(vfov / 2)
    offset = rng.uniform(-0.2, 0.2, (b, 2)) * half_height[:, None] * 2
    forward = aim - centre
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    target = aim + offset[:, :1] * right + offset[:, 1:] * down
    forward = target - centre
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    roll = np.radians(np.clip(rng.normal(0.0, 3.0, b), -10.0, 10.0))[:, None]
    right, down = (np.cos(roll) * right + np.sin(roll) * down,
                   -np.sin(roll) * right + np.cos(roll) * down)
    rotation = np.stack([right, down, forward], 1)  # rows: camera x, y, z in world coordinates
    focal = size[:, 1] / 2 / np.tan(vfov / 2)
    table = {"R": rotation, "T": centre, "f": np.stack([focal, focal], -1), "c": size / 2,
             "k": np.zeros((b, 3)), "p": np.zeros((b, 2)), "size": size}
    return {name: torch.as_tensor(v, dtype=torch.float32, device=device)
            for name, v in table.items()}
