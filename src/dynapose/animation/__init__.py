"""Animation-ready motion from a prediction: world frame and floor, foot contacts and skating,
rotations from positions, BVH export (:func:`export_motion`)."""

from dynapose.animation.export import export_motion, read_prediction

__all__ = ["export_motion", "read_prediction"]
