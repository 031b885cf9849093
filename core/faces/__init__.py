"""Faces in a photo: a pre-trained detector, boxes, and crops framed like the training images."""
