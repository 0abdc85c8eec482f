"""The bundle: what it holds equals the model and the data; a damaged or foreign bundle is refused in one line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, T_DAT
from hmrec.errors import ParameterError
from hmrec.models.base import Recommender
from hmrec.models.persist import sha256_file
from hmrec.serve.bundle import (
    BUNDLE_JSON,
    RECENT_PURCHASES,
    BundleError,
    load_bundle,
    read_manifest,
)
from hmrec.serve.bundle_write import check_depth
from hmrec.serve.colours import UNKNOWN, colour_hex


def test_precomputed_lists_are_the_models(bundles: Path, tiny: Dataset, als_model: Recommender) -> None:
    bundle = load_bundle(bundles / "als")
    ids, scores = als_model.recommend(np.arange(tiny.n_customers, dtype=np.int32), 12)
    assert np.array_equal(np.asarray(bundle.arrays["topk_ids"]), ids)
    assert np.array_equal(np.asarray(bundle.arrays["topk_scores"]), scores)
    # a customer by public id: the same list, in order, with the model's scores
    idx = 17
    recs = bundle.recommend(bundle.customer_index(str(tiny.customer_ids[idx])), 12)
    assert [r.article_idx for r in recs] == [int(i) for i in ids[idx] if i >= 0]
    assert [r.score for r in recs] == pytest.approx([float(s) for s in scores[idx][: len(recs)]])
    assert bundle.recommend(idx, 5) == recs[:5]


def test_sources_say_bought_before_exactly_for_the_customers_purchases(bundles: Path, tiny: Dataset) -> None:
    bundle = load_bundle(bundles / "als")
    seen = tiny.interactions(binary=True)
    ids = np.asarray(bundle.arrays["topk_ids"])
    codes = np.asarray(bundle.arrays["topk_source"])
    has_history = np.diff(seen.indptr) > 0
    rows = np.flatnonzero(has_history)[:200]
    for r in rows:  # a test may loop: 200 customers against scipy's own row look-up
        bought = set(seen.indices[seen.indptr[r] : seen.indptr[r + 1]].tolist())
        expected = [1 if a in bought else 0 for a in ids[r].tolist()]
        assert codes[r].tolist() == expected
    cold_rows = np.flatnonzero(~has_history)
    assert cold_rows.size > 0
    assert (codes[cold_rows] == 2).all()
    assert bundle.manifest["sources"] == ["als", "bought-before", "cold-start"]


def test_cold_start_is_the_models_fallback(bundles: Path, als_model: Recommender) -> None:
    bundle = load_bundle(bundles / "als")
    recs = bundle.recommend(None, 12)
    assert [r.article_idx for r in recs] == als_model.fallback_ids_[:12].tolist()
    assert {r.source for r in recs} == {"cold-start"}
    assert bundle.customer_index("f" * 64) is None
    assert bundle.customer_index("é") is None


def test_lookups_and_the_data_shown(bundles: Path, tiny: Dataset) -> None:
    bundle = load_bundle(bundles / "popularity-decay")
    for idx in (0, 5, tiny.n_customers - 1):
        assert bundle.customer_index(str(tiny.customer_ids[idx])) == idx
        assert bundle.customer_id(idx) == tiny.customer_ids[idx]
    article = str(tiny.article_ids[3])
    assert bundle.article_index(article) == 3
    assert bundle.article_index(article.lstrip("0")) == 3  # a lost leading zero is restored
    assert bundle.article_index("0000000000") is None
    shown = bundle.article(3)
    assert shown["article_id"] == article
    assert shown["prod_name"] == tiny.articles["prod_name"][3]
    sold = tiny.transactions.filter(pl.col(ARTICLE_IDX) == 3)
    assert shown["n_sales"] == sold.height
    assert shown["n_buyers"] == sold[CUSTOMER_IDX].n_unique() == sum(bundle.buyers_by_age(3).values())
    weeks = bundle.weekly_sales(3)
    assert sum(w["sales"] for w in weeks) == sold.height
    assert weeks[-1]["week_end"] == str(tiny.end_date)
    assert len(weeks) == bundle.manifest["n_weeks"]


def test_recent_purchases_are_the_latest_newest_first(bundles: Path, tiny: Dataset) -> None:
    bundle = load_bundle(bundles / "als")
    counts = tiny.transactions.group_by(CUSTOMER_IDX).len().sort("len", descending=True)
    heavy = int(counts[CUSTOMER_IDX][0])
    assert counts["len"][0] > RECENT_PURCHASES
    recent = bundle.recent_purchases(heavy)
    assert len(recent) == RECENT_PURCHASES
    dates = [p["date"] for p in recent]
    assert dates == sorted(dates, reverse=True)
    tx = tiny.transactions.filter(pl.col(CUSTOMER_IDX) == heavy)
    assert dates[0] == str(tx[T_DAT].max())
    assert bundle.profile(heavy)["n_purchases"] == tx.height


def test_colours() -> None:
    assert colour_hex("Black") == "#141414"
    assert colour_hex("Light Blue") != colour_hex("Blue") != colour_hex("Dark Blue")
    assert colour_hex("Unknown") == colour_hex(None) == UNKNOWN


def _copy(bundles: Path, tmp_path: Path) -> Path:
    target = tmp_path / "b"
    shutil.copytree(bundles / "popularity-decay", target)
    return target


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda d: (d / "serve" / "topk_ids.npy").unlink(), "serve/topk_ids.npy is missing"),
        (lambda d: (d / "serve" / "recent_day.npy").write_bytes(b"x"), "serve/recent_day.npy has 1 bytes"),
        (lambda d: (d / BUNDLE_JSON).write_text("{"), "bundle.json is not valid JSON"),
        (lambda d: (d / BUNDLE_JSON).unlink(), "not a serving bundle (bundle.json is missing)"),
        (lambda d: (d / "arrays.npz").unlink(), "arrays.npz is missing"),
    ],
)
def test_damaged_bundles_are_refused_in_one_line(bundles: Path, tmp_path: Path, damage: object, expected: str) -> None:
    target = _copy(bundles, tmp_path)
    damage(target)  # type: ignore[operator]
    with pytest.raises(BundleError) as info:
        load_bundle(target)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and "hmrec train" in message


def test_a_flipped_byte_is_caught_by_the_checksum(bundles: Path, tmp_path: Path) -> None:
    target = _copy(bundles, tmp_path)
    path = target / "serve" / "topk_scores.npy"
    data = bytearray(path.read_bytes())
    data[-4] ^= 0x01  # the lowest bit of the last score: a value still in bounds, only wrong
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="topk_scores.npy does not match its checksum"):
        load_bundle(target)
    load_bundle(target, checksums=False)  # sizes still agree: only the checksum sees it


def _edit_manifest(edit: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def apply(target: Path) -> None:
        manifest = json.loads((target / BUNDLE_JSON).read_text())
        edit(manifest)
        (target / BUNDLE_JSON).write_text(json.dumps(manifest))

    return apply


def _edit_array(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Rewrite a served array and its size and checksum in bundle.json, as an edit on purpose would."""

    def apply(target: Path) -> None:
        path = target / "serve" / f"{name}.npy"
        np.save(path, change(np.load(path)), allow_pickle=False)
        manifest = json.loads((target / BUNDLE_JSON).read_text())
        manifest["files"][f"serve/{name}.npy"] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        (target / BUNDLE_JSON).write_text(json.dumps(manifest))

    return apply


def _shift_end(manifest: dict[str, Any]) -> None:
    manifest["data_end"] = "2001-01-01"


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_edit_manifest(lambda m: m.update(sources=[])), "'sources'"),
        (_edit_manifest(lambda m: m.update(sources=["x", "y", "z"])), "'sources'"),
        (_edit_manifest(lambda m: m.update(customer_id_pattern="(")), "'customer_id_pattern'"),
        (_edit_manifest(lambda m: m.update(customer_id_pattern=".*")), "'customer_id_pattern'"),
        (_edit_manifest(lambda m: m.update(n_weeks=10**12)), "'n_weeks'"),
        (_edit_manifest(lambda m: m.update(n_weeks=m["n_weeks"] + 1)), "'n_weeks' is"),
        (_edit_manifest(lambda m: m.update(n_weeks="5")), "'n_weeks'"),
        (_edit_manifest(lambda m: m.update(data_end="yesterday")), "'data_end' is not a date"),
        (_edit_manifest(_shift_end), "'data_end' is 2001-01-01"),
        (_edit_manifest(lambda m: m.update(data_end=None)), "'n_weeks'"),
        (_edit_manifest(lambda m: m.update(data_end=None, n_weeks=0)), "'data_end' is None"),
        (_edit_manifest(lambda m: m.update(depth=10**9)), "'depth'"),
        (_edit_manifest(lambda m: m.update(n_customers=-1)), "'n_customers'"),
        (_edit_manifest(lambda m: m.update(age_buckets=["a"])), "'age_buckets'"),
        (_edit_manifest(lambda m: m.update(model="")), "'model'"),
        (_edit_manifest(lambda m: m["files"].pop("serve/topk_ids.npy")), "does not list serve/topk_ids.npy"),
        (_edit_manifest(lambda m: m["files"].update({"../x": {"bytes": 1, "sha256": "0"}})), "outside the bundle"),
        (_edit_manifest(lambda m: m["files"].update({"serve/topk_ids.npy": 5})), "'files'"),
        (_edit_array("topk_ids", lambda a: a + 10**6), "topk_ids.npy holds values outside"),
        (_edit_array("cold_ids", lambda a: np.full_like(a, -7)), "cold_ids.npy holds values outside"),
        (_edit_array("customer_sorted_idx", lambda a: -a - 1), "customer_sorted_idx.npy holds values outside"),
        (_edit_array("topk_source", lambda a: a + 3), "topk_source.npy"),
        (_edit_array("recent_indptr", lambda a: a[::-1].copy()), "recent_indptr.npy is not a valid row pointer"),
        (_edit_array("weekly_indptr", lambda a: a * 2), "weekly_indptr.npy is not a valid row pointer"),
        (_edit_array("weekly_week", lambda a: a + 500), "weekly_week.npy holds weeks outside"),
        (_edit_array("recent_day", lambda a: a + 10**7), "recent_day.npy holds days"),
        (_edit_array("topk_scores", lambda a: np.full_like(a, np.nan)), "topk_scores.npy holds scores"),
        (_edit_array("topk_ids", lambda a: a.astype(np.float32)), "topk_ids.npy holds values outside"),
    ],
)
def test_an_edited_bundle_is_refused_before_it_serves(
    bundles: Path, tmp_path: Path, damage: Callable[[Path], None], expected: str
) -> None:
    """bundle.json is not covered by its own checksums, and a served array with matching checksums may still
    be edited: each value is checked before a request indexes with it (these loaded, then answered 500)."""
    target = _copy(bundles, tmp_path)
    damage(target)
    with pytest.raises(BundleError) as info:
        load_bundle(target)
    assert expected in str(info.value) and "\n" not in str(info.value) and "hmrec train" in str(info.value)


def test_a_bundle_of_another_version_is_refused(bundles: Path, tmp_path: Path) -> None:
    target = _copy(bundles, tmp_path)
    manifest = json.loads((target / BUNDLE_JSON).read_text())
    for key, value in (("hmrec_version", "0.0.1"), ("bundle_format", 99)):
        changed = {**manifest, key: value}
        (target / BUNDLE_JSON).write_text(json.dumps(changed))
        with pytest.raises(BundleError, match="bundle written by hmrec"):
            read_manifest(target)


def test_depth_is_checked() -> None:
    assert check_depth(12) == 12
    for bad in (0, 101, True, 2.5):
        with pytest.raises(ParameterError, match="--serve-k"):
            check_depth(bad)  # type: ignore[arg-type]
