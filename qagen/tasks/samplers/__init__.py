"""Samplers, registered by name: pick frames and objects (with roles) for one candidate; no answers here."""
from qagen.tasks.samplers import clips, single_view  # noqa: F401
from qagen.tasks.samplers import multi_view  # noqa: F401
from qagen.tasks.samplers import imagination  # noqa: F401
from qagen.tasks.samplers import camera  # noqa: F401
from qagen.tasks.samplers import single_view_extra  # noqa: F401
from qagen.tasks.samplers import video  # noqa: F401
from qagen.tasks.samplers import scene_level  # noqa: F401
