"""Pictures: 2D overlays, the 3D skeleton, training curves, videos and the HTML viewer."""
