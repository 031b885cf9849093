"""Faces in a photo: a pre-trained detector, boxes, and the face crops the model classifies."""
