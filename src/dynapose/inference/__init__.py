"""Inference: a video (or keypoints) in, a :class:`~dynapose.inference.prediction.Prediction` out,
written by one writer."""
