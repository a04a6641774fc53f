"""Samplers and answer functions, registered by name on import."""
from qagen.tasks import answers, samplers  # noqa: F401
