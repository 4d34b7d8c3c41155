"""DynaPose: 3D human pose estimation from video.

Every clip is ``T`` frames of uint8 RGB (H x W x 3); every model returns the 17 Human3.6M joints
per frame, in millimetres, in the camera frame. See ``dynapose --help`` for the commands; each is
a thin layer over the functions exported here.
"""

__version__ = "0.1.0"
