"""--params-file: the two shapes, --param on top, and every bad file refused in one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hmrec.errors import ParameterError
from hmrec.tuning.params_file import read_params_file, with_params_file


def _file(tmp_path: Path, content: object | str) -> Path:
    path = tmp_path / "params.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_tunes_file_and_the_by_model_shape(tmp_path: Path) -> None:
    tuned = {"model": "als", "params": {"factors": 32}, "value": 0.01, "weeks": [], "trials": 3}
    assert read_params_file(_file(tmp_path, tuned)) == {"als": {"factors": 32}}
    by_model = {"als": {"factors": 32}, "popularity": {"days": 3}}
    assert read_params_file(_file(tmp_path, by_model)) == by_model


def test_the_command_line_overrides_the_file_key_by_key(tmp_path: Path) -> None:
    path = _file(tmp_path, {"als": {"factors": 32, "reg": 1.0}})
    merged = with_params_file(path, {"als": {"reg": 5.0}, "popularity": {"days": 3}})
    assert merged == {"als": {"factors": 32, "reg": 5.0}, "popularity": {"days": 3}}
    assert with_params_file(None, {"als": {"reg": 5.0}}) == {"als": {"reg": 5.0}}


def test_a_file_for_a_model_not_run_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, {"model": "als", "params": {"factors": 32}})
    with pytest.raises(ParameterError, match=r"is for model 'als', which this command does not run"):
        with_params_file(path, {}, ["popularity"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"als": {"factors": NaN}}', "not valid JSON"),
        ('{"als": {"reg": 1e400}}', "als.reg must be a finite number"),
        ({"factors": 32}, "'factors' is not a model's object of parameters"),
        ({"model": "als"}, "needs \"model\" (a name) and \"params\""),
        ({"als": {"nope": 1}}, "model 'als' has no parameter 'nope'"),
        ({"als": {"factors": "many"}}, "parameter 'factors'"),
        ({"als": {"factors": [1, 2]}}, "als.factors must be a number, string"),
        ({"nosuchmodel": {}}, "unknown model 'nosuchmodel'"),
        ([], "must be a JSON object"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(tmp_path: Path, content: object | str, message: str) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(ParameterError) as caught:
        read_params_file(path)
    text = str(caught.value)
    assert text.startswith(f"--params-file {path}: ") and message in text and "\n" not in text


def test_a_missing_or_binary_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="no such file"):
        read_params_file(tmp_path / "absent.json")
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ParameterError, match="not a text file"):
        read_params_file(binary)
    with pytest.raises(ParameterError, match="is a directory"):
        read_params_file(tmp_path)
