"""qagen: spatial question-answer pairs from 3D ground truth.

>>> import qagen
>>> scene = qagen.load("scenes/demo_0000")
>>> records = list(qagen.generate(scene, tasks="distance_prediction_oo", seed=0))
>>> qagen.write(records, "out", format="sharegpt")
"""
__version__ = "0.1.0"

from qagen.api import generate, load, to_pandas, write  # noqa: E402

__all__ = ["__version__", "generate", "load", "to_pandas", "write"]
