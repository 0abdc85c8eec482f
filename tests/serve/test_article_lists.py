"""Articles like this one, served: the bundle's lists, their checks, the API endpoint and `hmrec similar`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_bundle import _copy, _edit_array

from hmrec.data.dataset import Dataset
from hmrec.models.persist import sha256_file
from hmrec.ranking.neighbours import BOUGHT_TOGETHER, KINDS, SIMILAR, article_lists, sold_articles
from hmrec.serve.article_lists import LIST_ARRAYS, NoListsError, served_list
from hmrec.serve.bundle import BUNDLE_JSON, BundleError, load_bundle


@pytest.fixture(scope="module")
def lists(tiny: Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return article_lists(tiny, 12, seed=0)


@pytest.fixture(scope="module")
def unsold(tiny: Dataset) -> str:
    never = np.flatnonzero(~sold_articles(tiny))
    assert never.size, "the tiny data set has articles without sales"
    return str(tiny.article_ids[never[0]])


def sold_with_lists(tiny: Dataset, lists: dict[str, tuple[np.ndarray, np.ndarray]]) -> int:
    """An article whose both lists have at least three articles."""
    full = (lists[BOUGHT_TOGETHER][0][:, 2] >= 0) & (lists[SIMILAR][0][:, 2] >= 0)
    return int(np.flatnonzero(full)[0])


def strip_lists(target: Path) -> None:
    """Make ``target`` a bundle of an older hmrec: no list files, none in bundle.json."""
    manifest = json.loads((target / BUNDLE_JSON).read_text())
    for name in LIST_ARRAYS:
        (target / "serve" / f"{name}.npy").unlink()
        del manifest["files"][f"serve/{name}.npy"]
    (target / BUNDLE_JSON).write_text(json.dumps(manifest))


def test_the_bundle_holds_every_articles_lists(bundles: Path, lists: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    bundle = load_bundle(bundles / "popularity-decay")
    for kind in KINDS:
        ids, scores = lists[kind]
        for idx in range(ids.shape[0]):
            pairs = served_list(bundle.arrays, bundle.directory, idx, kind, 12)
            assert [i for i, _ in pairs] == ids[idx][ids[idx] >= 0].tolist()
            np.testing.assert_allclose([s for _, s in pairs], scores[idx][ids[idx] >= 0], rtol=1e-6)
    manifest = json.loads((bundles / "popularity-decay" / BUNDLE_JSON).read_text())
    for name in LIST_ARRAYS:  # checksummed like every served file
        path = bundles / "popularity-decay" / "serve" / f"{name}.npy"
        assert manifest["files"][f"serve/{name}.npy"] == {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def test_a_damaged_list_file_is_refused_like_the_other_served_files(bundles: Path, tmp_path: Path) -> None:
    target = _copy(bundles, tmp_path)
    path = target / "serve" / "similar_scores.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="similar_scores.npy does not match its checksum") as info:
        load_bundle(target)
    assert "\n" not in str(info.value) and "hmrec train" in str(info.value)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_edit_array("together_ids", lambda a: a + 10**6), "together_ids.npy holds values outside"),
        (_edit_array("similar_ids", lambda a: np.full_like(a, -3)), "similar_ids.npy holds values outside"),
        (_edit_array("together_scores", lambda a: np.full_like(a, np.nan)), "together_scores.npy holds scores"),
        (_edit_array("similar_ids", lambda a: a[:, :3].copy()), "similar_ids.npy has shape"),
    ],
)
def test_an_edited_list_is_refused_before_it_serves(
    bundles: Path, tmp_path: Path, damage: object, expected: str
) -> None:
    target = _copy(bundles, tmp_path)
    damage(target)  # type: ignore[operator]
    with pytest.raises(BundleError, match=expected):
        load_bundle(target)


def test_an_older_bundle_without_lists_loads_and_says_so(bundles: Path, tmp_path: Path) -> None:
    target = _copy(bundles, tmp_path)
    strip_lists(target)
    bundle = load_bundle(target)
    assert bundle.recommend(0, 3)  # everything else is served as before
    with pytest.raises(NoListsError, match="holds no article lists"):
        served_list(bundle.arrays, target, 0, SIMILAR, 12)
    half = _copy(bundles, tmp_path / "half")
    manifest = json.loads((half / BUNDLE_JSON).read_text())
    (half / "serve" / "together_ids.npy").unlink()
    del manifest["files"]["serve/together_ids.npy"]
    (half / BUNDLE_JSON).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="together_ids.npy is missing beside the other article lists"):
        load_bundle(half)


# ---------------------------------------------------------------------------------------------- the API
@pytest.fixture(scope="module")
def client(bundles: Path) -> Iterator[object]:
    pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'hmrec[serve]')")
    from fastapi.testclient import TestClient

    from hmrec.serve.app import create_app
    from hmrec.serve.state import ServeState

    with TestClient(create_app(ServeState([bundles])), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_endpoint_answers_each_kind(
    client: object, tiny: Dataset, lists: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    idx = sold_with_lists(tiny, lists)
    article = str(tiny.article_ids[idx])
    for kind in KINDS:
        response = client.get(f"/v1/articles/{article}/similar", params={"k": 3, "kind": kind})  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        body = response.json()
        assert {key: body[key] for key in ("article_id", "model", "kind", "k")} == {
            "article_id": article, "model": "als", "kind": kind, "k": 3
        }
        assert [i["article_id"] for i in body["items"]] == [str(tiny.article_ids[j]) for j in lists[kind][0][idx, :3]]
        assert [i["rank"] for i in body["items"]] == [1, 2, 3]
        assert {i["source"] for i in body["items"]} == {kind}
        assert {"name", "product_type", "colour", "colour_hex", "price", "score"} <= set(body["items"][0])
    default = client.get(f"/v1/articles/{article.lstrip('0')}/similar").json()  # type: ignore[attr-defined]
    assert default["kind"] == SIMILAR and default["k"] == 12 and default["article_id"] == article
    schema = client.get("/openapi.json").json()  # type: ignore[attr-defined]
    params = {p["name"]: p for p in schema["paths"]["/v1/articles/{article_id}/similar"]["get"]["parameters"]}
    assert set(params) == {"article_id", "k", "kind", "model"}
    assert params["kind"]["schema"]["enum"] == list(KINDS)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"kind": "alike"}, 422, "kind"),
        ({"k": 13}, 422, "k"),
        ({"k": 0}, 422, "k"),
        ({"model": "nope"}, 422, "model"),
    ],
)
def test_bad_queries_are_a_4xx_naming_the_field(
    client: object, tiny: Dataset, lists: dict[str, tuple[np.ndarray, np.ndarray]], query: dict[str, object],
    status: int, field: str,
) -> None:
    article = str(tiny.article_ids[sold_with_lists(tiny, lists)])
    response = client.get(f"/v1/articles/{article}/similar", params=query)  # type: ignore[attr-defined]
    assert response.status_code == status and set(response.json()) == {"error"}
    assert response.json()["error"].startswith(f"{field}:")


def test_unknown_and_unsold_articles_are_404(client: object, unsold: str) -> None:
    for article, words in (("0000000000", "unknown article"), (unsold, "was never sold")):
        response = client.get(f"/v1/articles/{article}/similar")  # type: ignore[attr-defined]
        assert response.status_code == 404
        message = response.json()["error"]
        assert message.startswith("article_id:") and words in message and "\n" not in message
    assert client.get("/v1/articles/12ab/similar").status_code == 422  # type: ignore[attr-defined]


def test_a_bundle_without_lists_is_a_404_naming_the_fix(bundles: Path, tmp_path: Path, tiny: Dataset) -> None:
    pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'hmrec[serve]')")
    from fastapi.testclient import TestClient

    from hmrec.serve.app import create_app
    from hmrec.serve.state import ServeState

    target = _copy(bundles, tmp_path)
    strip_lists(target)
    article = str(tiny.article_ids[int(tiny.transactions["article_idx"][0])])
    with TestClient(create_app(ServeState([target]))) as old:
        response = old.get(f"/v1/articles/{article}/similar")
    assert response.status_code == 404 and "hmrec train" in response.json()["error"]


# ---------------------------------------------------------------------------------------------- the command
def hmrec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hmrec", *args], capture_output=True, text=True, check=False)


def test_the_command_from_the_data_and_from_a_bundle(
    tiny_dir: Path, tiny: Dataset, bundles: Path, lists: dict[str, tuple[np.ndarray, np.ndarray]], tmp_path: Path
) -> None:
    idx = sold_with_lists(tiny, lists)
    article = str(tiny.article_ids[idx])
    expected = [str(tiny.article_ids[j]) for j in lists[BOUGHT_TOGETHER][0][idx, :3]]
    for source in (["--data", str(tiny_dir)], ["--model-dir", str(bundles / "als")]):
        done = hmrec("similar", *source, "--article", article, "--k", "3", "--kind", BOUGHT_TOGETHER, "--quiet")
        assert done.returncode == 0, done.stderr
        shown = [line.split("│")[2].strip() for line in done.stdout.splitlines() if line.count("│") > 3]
        assert [s for s in shown if s] == expected, done.stdout
        assert "similar to" not in done.stdout  # one kind asked for
    both = hmrec("similar", "--model-dir", str(bundles / "als"), "--article", article, "--k", "2", "--quiet")
    assert both.returncode == 0 and "bought together with" in both.stdout and "similar to" in both.stdout
    old = _copy(bundles, tmp_path)
    strip_lists(old)
    done = hmrec("similar", "--model-dir", str(old), "--article", article)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "holds no article lists" in done.stderr


@pytest.mark.parametrize("where", ["data", "bundle"])
def test_unknown_and_unsold_articles_are_one_line_exit_2(
    tiny_dir: Path, bundles: Path, unsold: str, where: str
) -> None:
    source = ["--data", str(tiny_dir)] if where == "data" else ["--model-dir", str(bundles / "als")]
    for article, words in (("0999999999", "unknown article id"), (unsold, "was never sold")):
        done = hmrec("similar", *source, "--article", article, "--quiet")
        assert done.returncode == 2, done.stdout
        assert done.stderr.count("\n") == 1 and words in done.stderr and "Traceback" not in done.stderr
