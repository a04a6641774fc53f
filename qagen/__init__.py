"""qagen: spatial question-answer pairs from 3D ground truth.

>>> import qagen
>>> scene = qagen.load("scenes/demo_0000")
>>> records = list(qagen.generate(scene, tasks="distance_prediction_oo", seed=0))
>>> qagen.write(records, "out", format="sharegpt")

The API is imported lazily, so `import qagen.errors` (or the CLI's --help) does not load torch.
"""
__version__ = "0.1.0"

__all__ = ["__version__", "generate", "load", "to_pandas", "write"]


def __getattr__(name: str):
    if name in ("generate", "load", "to_pandas", "write"):
        from qagen import api

        return getattr(api, name)
    raise AttributeError(f"module 'qagen' has no attribute {name!r}")
