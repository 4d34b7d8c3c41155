"""Files in and out: atomic writes, checkpoints, ONNX export, video decoding, Keras import."""
