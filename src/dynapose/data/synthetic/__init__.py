"""Synthetic people: procedural motion, a renderer, and the clip store it fills."""
