"""Learning: frozen pre-trained backbones, the feature cache, the heads, training, evaluation, prediction, checkpoints."""
