"""qagen: spatial question-answer pairs from 3D ground truth."""
__version__ = "0.1.0"
