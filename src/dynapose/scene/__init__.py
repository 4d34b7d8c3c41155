"""The scene a prediction was filmed in: the floor under the person and the camera's height and
tilt, found from the feet (floor.py), foot contacts, skating and the trajectory (feet.py), and
the rotation maths they share (rotations.py). Camera-frame millimetres in; no other stage
needed, so the writer's pictures and the animation export both use it."""
