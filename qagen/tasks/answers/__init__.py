"""Answer functions, registered by name: geometry in, answer (exact value, margin) out, or a counted Reject."""
from qagen.tasks.answers import scene, single_view  # noqa: F401
from qagen.tasks.answers import multi_view  # noqa: F401
from qagen.tasks.answers import imagination  # noqa: F401
from qagen.tasks.answers import camera  # noqa: F401
from qagen.tasks.answers import single_view_extra  # noqa: F401
from qagen.tasks.answers import navigation, video  # noqa: F401
from qagen.tasks.answers import scene_level  # noqa: F401
