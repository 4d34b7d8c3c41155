"""DynaPose: 3D human pose estimation from video.

Every clip is ``T`` frames of uint8 RGB (H x W x 3); every model returns the 17 Human3.6M joints
per frame, in millimetres, in the camera frame. See ``dynapose --help`` for the commands; each is
a thin layer over the functions exported here.
"""

import os as _os

# Back torch's large CPU allocations (the seed model's first-stage buffers) with transparent huge
# pages: far fewer page faults per training step. Torch reads this once, when it is first
# imported, so it is set here before any DynaPose module imports torch; a user's own value wins.
_os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

__version__ = "0.1.0"
