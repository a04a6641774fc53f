"""Records cross processes (a scene's helpers send theirs to the scene's process): QA and Marker
pickle to an equal value, every field included, and new fields cannot be left out."""
import dataclasses
import pickle

from qagen.render.record import QA
from qagen.tasks.fact import Marker


def _every_field_set(cls, **values):
    """An instance whose every field holds a value of its own (not a default)."""
    missing = {f.name for f in dataclasses.fields(cls)} - set(values)
    assert not missing, f"give the test a value for {sorted(missing)}"
    return cls(**values)


def test_a_record_and_its_markers_pickle_to_equal_values():
    point = _every_field_set(Marker, role="a", kind="point", color="red", image=1, xy=(120, 640), box=None,
                             rule="nearest")
    box = _every_field_set(Marker, role="b", kind="box", color="blue", image=0, xy=None, box=(10, 20, 300, 400),
                           rule="mask_box")
    qa = _every_field_set(QA, id="synthetic/demo_0000/near_far/fill/000003", task="near_far", format="fill",
                          source="synthetic", scene="demo_0000", question="Which is nearer?", answer="The red one.",
                          images=("demo_0000/color/000010.jpg", "demo_0000/color/000020.jpg"), media="image",
                          markers=(point, box), meta={"answer": {"kind": "choice", "value": "a"}, "seed": 7})
    for value in (point, box, qa):
        back = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(value) and back == value  # dataclass equality: field by field
