"""Data: the clip store and everything that fills it (arrays, synthetic video, Human3.6M, BVH)."""

from dynapose.data.store import ClipStore, ClipStoreWriter

__all__ = ["ClipStore", "ClipStoreWriter"]
