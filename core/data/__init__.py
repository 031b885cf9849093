"""The images: the face-mask data set (listing, hashing, fetching by manifest) and safe decoding of any upload."""
