"""A miniature Human3.6M in the official release layout, generated for tests.

64x64 videos (PyAV, lossless H.264, a keyframe every 8 frames) seen by cameras whose intrinsics
fit 64x64 images; CDF pose files (cdflib) with the official ``Pose`` variable shapes. Each video
frame has a uniform grey background encoding its index (``background(i)``) and a 3x3 white dot
on each of the 17 joints' 2D positions, so a test can tell which frame a crop came from and
where the joints lie in it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dynapose.camera import Camera, look_at
from dynapose.skeleton import H36M_32_TO_17

SIZE = 64
CAMS = ("54138969", "55011271")
# subject -> {action: frames}; S11 "Directions" on 54138969 is the known-corrupt video.
SEQUENCES = {"S1": {"Walking": 40}, "S11": {"Directions": 24}}

# A standing person, 17 joints, world mm (Z up), facing -Y.
_BODY17 = np.array([
    [0, 0, 950], [-130, 0, 950], [-130, 0, 520], [-130, 0, 90], [130, 0, 950], [130, 0, 520],
    [130, 0, 90], [0, 0, 1180], [0, 0, 1430], [0, -60, 1520], [0, 0, 1650], [180, 0, 1400],
    [200, 0, 1120], [210, 0, 860], [-180, 0, 1400], [-200, 0, 1120], [-210, 0, 860],
], dtype=np.float64)


def background(index: int) -> int:
    """Grey level of frame `index`'s background."""
    return 20 + 5 * index


def mini_camera(subject: str, cam_id: str) -> Camera:
    """A camera looking at the scene centre, intrinsics for a 64x64 image."""
    azimuth = {"54138969": 0.6, "55011271": -2.3}[cam_id] + (0.1 if subject == "S11" else 0.0)
    eye = np.array([4500 * np.cos(azimuth), 4500 * np.sin(azimuth), 1500.0])
    return Camera(
        R=look_at(eye, np.array([0.0, 0.0, 1000.0])), T=eye, f=np.array([62.0, 61.0]),
        c=np.array([31.5, 32.5]), k=np.array([-0.2, 0.24, -0.003]),
        p=np.array([-0.0014, -0.001]), width=SIZE, height=SIZE, name=cam_id,
    )


def world_poses(frames: int, seed: int) -> np.ndarray:
    """(T, 32, 3) world mm: the body walking along X with swinging limbs."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    body = np.repeat(_BODY17[None], frames, axis=0)
    body[:, :, 0] += -300 + 15 * t
    swing = 120 * np.sin(t / 3.0)
    body[:, [2, 3, 12, 13], 1] += swing
    body[:, [5, 6, 15, 16], 1] -= swing
    body += rng.normal(0, 5, body.shape)
    out = np.repeat(body[:, :1], 32, axis=1)  # the 15 unused joints sit on the pelvis
    out[:, list(H36M_32_TO_17)] = body
    return out


def write_cdf(path: Path, pose: np.ndarray, variable: str = "Pose") -> None:
    """Write (T, 32, d) as the official layout does: a variable shaped (1, T, 32*d)."""
    import cdflib.cdfwrite as cw

    path.parent.mkdir(parents=True, exist_ok=True)
    data = pose.reshape(1, len(pose), -1).astype(np.float32)
    cdf = cw.CDF(str(path), delete=True)
    cdf.write_var({"Variable": variable, "Data_Type": cw.CDF.CDF_FLOAT, "Num_Elements": 1,
                   "Rec_Vary": True, "Dim_Sizes": list(data.shape[1:])},
                  var_attrs={}, var_data=data)
    cdf.close()


def write_video(path: Path, joints2d: np.ndarray, frames: int | None = None) -> None:
    """A 64x64 50 fps mp4: grey background(i), white 3x3 dots at the 17 joints of each frame."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(joints2d) if frames is None else frames
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=50)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv444p"
        stream.options = {"crf": "0", "preset": "ultrafast", "g": "8", "bf": "0"}
        for i in range(n):
            img = np.full((SIZE, SIZE, 3), background(i), dtype=np.uint8)
            for x, y in np.rint(joints2d[min(i, len(joints2d) - 1)]).astype(int):
                img[max(y - 1, 0):max(y + 2, 0), max(x - 1, 0):max(x + 2, 0)] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_cameras_h5(path: Path, cameras: dict[tuple[str, str], Camera]) -> None:
    """3d-pose-baseline's cameras.h5 layout (R stored transposed, Name as character codes)."""
    import h5py

    from dynapose.data.h36m_cameras import CAMERA_IDS

    with h5py.File(path, "w") as f:
        for (subject, cam_id), cam in cameras.items():
            g = f.create_group(f"subject{subject[1:]}/camera{CAMERA_IDS.index(cam_id) + 1}")
            g["R"] = cam.R.T
            g["T"] = cam.T.reshape(3, 1)
            g["f"] = cam.f.reshape(2, 1)
            g["c"] = cam.c.reshape(2, 1)
            g["k"] = cam.k.reshape(3, 1)
            g["p"] = cam.p.reshape(2, 1)
            g["Name"] = np.array([float(ord(ch)) for ch in cam_id]).reshape(-1, 1)


def make_dataset(root: Path, mono: bool = True, d2: bool = True) -> dict[tuple[str, str], Camera]:
    """Write the miniature release under `root`; returns its cameras (also in root/cameras.h5)."""
    cameras = {}
    for s_index, (subject, actions) in enumerate(SEQUENCES.items()):
        feats = root / subject / "MyPoseFeatures"
        for action, frames in actions.items():
            world = world_poses(frames, seed=s_index)
            write_cdf(feats / "D3_Positions" / f"{action}.cdf", world)
            for cam_id in CAMS:
                cam = cameras[(subject, cam_id)] = mini_camera(subject, cam_id)
                cam_pos = cam.world_to_camera(world)
                uv = cam.project(cam_pos)
                if mono:
                    write_cdf(feats / "D3_Positions_mono" / f"{action}.{cam_id}.cdf", cam_pos)
                if d2:
                    write_cdf(feats / "D2_Positions" / f"{action}.{cam_id}.cdf", uv)
                write_video(root / subject / "Videos" / f"{action}.{cam_id}.mp4",
                            uv[:, list(H36M_32_TO_17)])
    write_cameras_h5(root / "cameras.h5", cameras)
    return cameras
