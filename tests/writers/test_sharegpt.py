"""shareGPT lines and dataset_info.json, checked against LLaMA-Factory's rules on hand-made records."""
import json
from pathlib import Path

import pytest

from qagen.errors import RecordError, RegistryError
from qagen.render.record import QA, Marker
from qagen.writers import WRITERS, ShardInfo, ShardWriter, ShareGPTWriter, make_writer

META = {"task": "distance_prediction_oo", "answer": {"kind": "number", "value": 1.2, "unit": "m", "exact": 1.2347}}


def make_qa(n_images=1, media="image", question="How far apart are the red and blue points?", scene="scene0000_00",
            task="distance_prediction_oo", number=42):
    images = tuple(f"{scene}/color/{i * 10}.jpg" for i in range(n_images))
    return QA(id=f"scannet/{scene}/{task}/fill/{number:06d}", task=task, format="fill", source="scannet",
              scene=scene, question=question, answer="1.2", images=images, media=media,
              markers=(Marker("a", "point", "red", 0, xy=(512, 388)),) if n_images else (), meta=META)


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    for scene in ("scene0000_00", "scene0001_00"):
        (root / scene / "color").mkdir(parents=True)
        for i in range(12):
            (root / scene / "color" / f"{i * 10}.jpg").write_bytes(b"jpg")
    return root


def test_registry_names_every_writer():
    assert WRITERS.names() == ["internvl", "qwen", "sharegpt", "spar"]
    assert WRITERS.get("sharegpt") is ShareGPTWriter


def test_make_writer_applies_options_and_names_unknown_formats(tmp_path):
    writer = make_writer("sharegpt", data_root=tmp_path, strip_meta=True, sharegpt_style="openai")
    assert isinstance(writer, ShareGPTWriter) and writer.style.messages == "messages"
    assert writer.data_root == tmp_path and writer.strip_meta
    assert make_writer("internvl").name == "internvl"
    with pytest.raises(RegistryError, match="did you mean 'sharegpt'"):
        make_writer("sharegtp")


def test_single_image_line_is_exactly_the_formats_shape():
    line = ShareGPTWriter().encode(make_qa())
    assert line == {
        "id": "scannet/scene0000_00/distance_prediction_oo/fill/000042",
        "conversations": [
            {"from": "human", "value": "<image>\nHow far apart are the red and blue points?"},
            {"from": "gpt", "value": "1.2"},
        ],
        "images": ["scene0000_00/color/0.jpg"],
        "meta": '{"answer":{"exact":1.2347,"kind":"number","unit":"m","value":1.2},"task":"distance_prediction_oo"}',
    }
    assert json.loads(line["meta"]) == META


def test_several_images_are_labelled_one_placeholder_each_in_order():
    line = ShareGPTWriter().encode(make_qa(n_images=3))
    assert line["conversations"][0]["value"] == (
        "Image-1: <image>\nImage-2: <image>\nImage-3: <image>\nHow far apart are the red and blue points?")
    assert line["images"] == ["scene0000_00/color/0.jpg", "scene0000_00/color/10.jpg", "scene0000_00/color/20.jpg"]
    assert line["conversations"][0]["value"].count("<image>") == 3


def test_video_is_one_list_of_frames_and_one_video_placeholder():
    line = ShareGPTWriter().encode(make_qa(n_images=4, media="video"))
    assert line["videos"] == [[f"scene0000_00/color/{i * 10}.jpg" for i in range(4)]]
    assert "images" not in line
    assert line["conversations"][0]["value"] == "<video>\nHow far apart are the red and blue points?"


def test_text_only_record_has_no_media_key_and_no_placeholder():
    line = ShareGPTWriter().encode(make_qa(n_images=0, media="none"))
    assert "images" not in line and "videos" not in line
    assert line["conversations"][0]["value"] == "How far apart are the red and blue points?"


def test_openai_style_writes_messages_with_roles():
    line = ShareGPTWriter(style="openai").encode(make_qa())
    assert "conversations" not in line
    assert line["messages"] == [
        {"role": "user", "content": "<image>\nHow far apart are the red and blue points?"},
        {"role": "assistant", "content": "1.2"},
    ]


def test_strip_meta_leaves_meta_out():
    assert "meta" not in ShareGPTWriter(strip_meta=True).encode(make_qa())


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="openai"):
        ShareGPTWriter(style="chatml")


def test_valid_lines_pass_validation_with_a_data_root(data_root):
    writer = ShareGPTWriter(data_root=data_root)
    for qa in (make_qa(), make_qa(n_images=3), make_qa(n_images=4, media="video"), make_qa(0, media="none")):
        writer.validate(writer.encode(qa), qa)


def test_placeholder_in_the_question_breaks_the_count():
    qa = make_qa(question="Is the <image> tag here?")
    writer = ShareGPTWriter()
    with pytest.raises(RecordError) as err:
        writer.validate(writer.encode(qa), qa)
    assert err.value.reason == "image_placeholders"
    assert "2 <image> for 1 images" in str(err.value)


def test_video_placeholder_count_must_match_videos():
    qa = make_qa(question="<video> again", n_images=2, media="video")
    writer = ShareGPTWriter()
    with pytest.raises(RecordError) as err:
        writer.validate(writer.encode(qa), qa)
    assert err.value.reason == "video_placeholders"


def test_missing_image_on_disk_is_refused(data_root):
    qa = QA(id="scannet/scene0000_00/t/fill/000001", task="t", format="fill", source="scannet",
            scene="scene0000_00", question="q", answer="a", images=("scene0000_00/color/999.jpg",))
    writer = ShareGPTWriter(data_root=data_root)
    with pytest.raises(RecordError) as err:
        writer.validate(writer.encode(qa), qa)
    assert err.value.reason == "missing_image"
    assert "scene0000_00/color/999.jpg" in str(err.value)


def test_roles_must_alternate_from_the_user():
    qa = make_qa()
    writer = ShareGPTWriter()
    line = writer.encode(qa)
    line["conversations"].reverse()
    with pytest.raises(RecordError) as err:
        writer.validate(line, qa)
    assert err.value.reason == "roles"
    line["conversations"] = line["conversations"][:1]
    with pytest.raises(RecordError, match="pairs"):
        writer.validate(line, qa)


def write_shards(out, writer, scenes):
    infos = []
    for scene, records in scenes.items():
        with ShardWriter(out, writer, "scannet", scene) as shard:
            for qa in records:
                assert shard.write(qa)
        infos.append(shard.info)
    return infos


def test_dataset_info_points_at_the_source_folder_when_shards_agree(tmp_path, data_root):
    out = tmp_path / "out"
    writer = ShareGPTWriter(data_root=data_root)
    shards = write_shards(out, writer, {
        "scene0000_00": [make_qa(), make_qa(n_images=4, media="video", number=2)],
        "scene0001_00": [make_qa(n_images=4, media="video", scene="scene0001_00"), make_qa(scene="scene0001_00")],
    })
    [path] = writer.write_meta(out, shards, "qagen_demo")
    assert path == out / "sharegpt" / "dataset_info.json"
    assert json.loads(path.read_text()) == {
        "qagen_demo/scannet": {
            "file_name": "scannet",
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "images": "images", "videos": "videos"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"},
        }
    }


def test_dataset_info_lists_each_shard_when_columns_differ(tmp_path):
    out = tmp_path / "out"
    writer = ShareGPTWriter(style="openai")
    shards = write_shards(out, writer, {
        "scene0000_00": [make_qa()],
        "scene0001_00": [make_qa(n_images=0, media="none", scene="scene0001_00")],
        "scene0002_00": [],
    })
    [path] = writer.write_meta(out, shards, "mix")
    tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}
    assert json.loads(path.read_text()) == {
        "mix/scannet/scene0000_00": {"file_name": "scannet/scene0000_00.jsonl", "formatting": "sharegpt",
                                     "columns": {"messages": "messages", "images": "images"}, "tags": tags},
        "mix/scannet/scene0001_00": {"file_name": "scannet/scene0001_00.jsonl", "formatting": "sharegpt",
                                     "columns": {"messages": "messages"}, "tags": tags},
    }


def test_dataset_info_avoids_a_folder_holding_other_files(tmp_path):
    out = tmp_path / "out"
    writer = ShareGPTWriter()
    shards = write_shards(out, writer, {"scene0000_00": [make_qa()]})
    (out / "sharegpt" / "scannet" / ".scene0001_00.jsonl.tmp").write_text("half a line")
    entries = json.loads(writer.write_meta(out, shards, "d")[0].read_text())
    assert list(entries) == ["d/scannet/scene0000_00"]
    assert entries["d/scannet/scene0000_00"]["file_name"] == "scannet/scene0000_00.jsonl"


def test_dataset_info_reads_columns_of_shards_given_without_them(tmp_path):
    out = tmp_path / "out"
    writer = ShareGPTWriter()
    [shard] = write_shards(out, writer, {"scene0000_00": [make_qa(n_images=2, media="video")]})
    resumed = ShardInfo(shard.path, "scannet", "scene0000_00", shard.count)
    entries = json.loads(writer.write_meta(out, [resumed], "d")[0].read_text())
    assert entries["d/scannet"]["columns"] == {"messages": "conversations", "videos": "videos"}
    assert Path(out / "sharegpt" / entries["d/scannet"]["file_name"]).is_dir()
