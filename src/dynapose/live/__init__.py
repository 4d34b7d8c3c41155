"""Live mode: a camera, a stream or a video file to 3D joints per frame without lookahead, shown
in a window or a browser page, sent as the VMC protocol (OSC) or JSON over WebSocket, recorded
as ``predict`` writes. The entry point is :func:`dynapose.live.session.run_live`."""
