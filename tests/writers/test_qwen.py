"""Qwen-VL box answers: fill answers become {"bbox_2d", "label"} JSON and the prompt asks for that form."""
import json

import pytest

from qagen.errors import RecordError
from qagen.render.record import QA
from qagen.writers import QwenWriter, ShareGPTWriter, make_writer

GROUNDING = ("Locate the cup on the right and output its 2D box in the form [x1, y1, x2, y2], "
             "with x and y scaled to 0-1000.")


def make_qa(question=GROUNDING, answer="[602, 621, 652, 715]", fmt="fill", answer_meta=None):
    meta = {"task": "object_grounding", "format": fmt, "objects": [{"role": "a", "id": 10, "label": "cup"}],
            "answer": answer_meta or {"kind": "box", "value": [602, 621, 652, 715],
                                      "description": "the cup on the right"}}
    return QA(id="scannet/scene0000_00/object_grounding/fill/000001", task="object_grounding", format=fmt,
              source="scannet", scene="scene0000_00", question=question, answer=answer,
              images=("scene0000_00/color/0.jpg",), meta=meta)


def turns(line):
    return [t["value"] for t in line["conversations"]]


def test_box_answer_is_qwen_json_and_the_prompt_asks_for_it():
    qa = make_qa()
    line = QwenWriter().encode(qa)
    question, answer = turns(line)
    assert answer == '{"bbox_2d": [602, 621, 652, 715], "label": "cup"}'
    assert json.loads(answer) == {"bbox_2d": [602, 621, 652, 715], "label": "cup"}
    assert question == ('<image>\nLocate the cup on the right and output its 2D box in the form '
                        '{"bbox_2d": [x1, y1, x2, y2], "label": "cup"}, with x and y scaled to 0-1000.')
    QwenWriter().validate(line, qa)


def test_the_answers_own_label_wins():
    qa = make_qa(answer_meta={"kind": "box", "value": [1, 2, 3, 4], "label": "mug"}, answer="[1, 2, 3, 4]")
    assert json.loads(turns(QwenWriter().encode(qa))[1]) == {"bbox_2d": [1, 2, 3, 4], "label": "mug"}


def test_select_and_other_records_are_the_sharegpt_lines():
    select = make_qa(question="Which box frames the cup?\nA. [1, 2, 3, 4]\nB. [602, 621, 652, 715]", answer="B",
                     fmt="select")
    other = make_qa(question="How far is the cup?", answer="1.2",
                    answer_meta={"kind": "number", "value": 1.2, "unit": "m"})
    for qa in (select, other):
        assert QwenWriter().encode(qa) == ShareGPTWriter().encode(qa)


def test_a_prompt_without_the_box_form_is_refused():
    qa = make_qa(question="Where is the cup? Give its box on a 0-1000 scale.")
    with pytest.raises(RecordError) as err:
        QwenWriter().encode(qa)
    assert err.value.reason == "qwen_prompt"


def test_openai_style_and_own_folder():
    writer = make_writer("qwen", sharegpt_style="openai")
    assert isinstance(writer, QwenWriter) and writer.name == "qwen"
    line = writer.encode(make_qa())
    assert json.loads(line["messages"][1]["content"])["bbox_2d"] == [602, 621, 652, 715]
