"""ALS: numba kernels against the numpy reference, convergence, determinism, planted-structure recovery."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.errors import NotFittedError, ParameterError
from hmrec.models import _kernels, _reference, create
from hmrec.models.als import ALS, ALSSolver, confidence_matrix, gram
from hmrec.models.scoring import score_top_k

GROUPS = 4


@pytest.fixture(scope="module")
def planted() -> Dataset:
    return Dataset.from_frames(*_reference.planted_frames(groups=GROUPS))


@pytest.fixture(scope="module")
def split(planted: Dataset) -> tuple[Dataset, Dataset]:
    cut = dt.date(2020, 1, 21)
    return planted.between(None, cut), planted.between(cut + dt.timedelta(days=1), None)


def random_conf(n: int = 50, m: int = 30, density: float = 0.2, seed: int = 1) -> sp.csr_matrix:
    weights = sp.random(n, m, density=density, random_state=seed, format="csr", dtype=np.float32)
    weights.data = np.ceil(weights.data * 3)  # counts 1..3
    keep = np.ones(n, dtype=np.float32)
    keep[3] = 0  # an empty row
    weights = sp.csr_matrix(sp.diags(keep) @ weights)
    weights.eliminate_zeros()
    return confidence_matrix(weights, alpha=5.0)


# ---------------------------------------------------------------------- kernels vs reference
def test_cg_kernel_matches_reference() -> None:
    conf = random_conf()
    rng = np.random.default_rng(0)
    x = rng.random((50, 6), dtype=np.float32)
    y = rng.random((30, 6), dtype=np.float32)
    reg = 0.1
    got = x.copy()
    _kernels.als_cg(conf.indptr, conf.indices, conf.data, got, y, gram(y, reg), 3,
                    _kernels.balanced_chunks(conf.indptr, 4, 6))
    want = _reference.als_cg_ref(conf, x, y, reg, 3)
    # float32 kernel against a float64 reference
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-4)
    assert np.all(got[3] == 0)


def test_cholesky_kernel_matches_exact_solution() -> None:
    conf = random_conf()
    y = np.random.default_rng(2).random((30, 6), dtype=np.float32)
    got = np.ones((50, 6), dtype=np.float32)
    _kernels.als_cholesky(conf.indptr, conf.indices, conf.data, got, y, gram(y, 0.1).astype(np.float64),
                          _kernels.balanced_chunks(conf.indptr, 3, 6))
    np.testing.assert_allclose(got, _reference.als_exact_ref(conf, y, 0.1), rtol=1e-4, atol=1e-5)


def test_loss_kernel_matches_dense_loss() -> None:
    conf = random_conf()
    rng = np.random.default_rng(3)
    solver = ALSSolver(conf, factors=5, reg=0.3, solver="cg", cg_steps=3, threads=2, seed=0)
    solver.x = rng.standard_normal((50, 5)).astype(np.float32)
    solver.y = rng.standard_normal((30, 5)).astype(np.float32)
    dense = _reference.als_loss_ref(conf, solver.x, solver.y, 0.3) / solver.total_confidence
    assert solver.loss() == pytest.approx(dense, rel=1e-5)


@pytest.mark.parametrize("with_exclude", [False, True])
def test_pruned_top_k_matches_dense_reference(with_exclude: bool) -> None:
    rng = np.random.default_rng(4)
    # small integer factors: many exact ties, which must go to the lower article index
    users = rng.integers(-2, 3, (300, 4)).astype(np.float32)
    items = rng.integers(-2, 3, (90, 4)).astype(np.float32)
    users[7] = 0  # all scores tie at 0
    candidates = np.sort(rng.choice(90, 70, replace=False)).astype(np.int32)
    customers = rng.permutation(300)[:250].astype(np.int64)
    exclude = sp.random(300, 90, density=0.1, random_state=2, format="csr") if with_exclude else None
    dense = users[customers] @ items.T
    allowed = np.zeros(90, dtype=bool)
    allowed[candidates] = True
    dense[:, ~allowed] = -np.inf
    if exclude is not None:
        dense[exclude[customers].toarray() > 0] = -np.inf
    want_ids, want_scores = _reference.top_k_ref(dense, 12)
    # the kernel directly, with tiny tiles so that pruning and the tile boundaries are exercised
    q = items[candidates]
    norms = np.linalg.norm(q, axis=1).astype(np.float32)
    order = np.lexsort((candidates, -norms))
    position = np.full(90, -1, dtype=np.int64)
    position[candidates[order]] = np.arange(candidates.size)
    indptr = exclude.indptr.astype(np.int64) if exclude is not None else np.zeros(0, dtype=np.int64)
    indices = exclude.indices.astype(np.int32) if exclude is not None else np.zeros(0, dtype=np.int32)
    got_ids, got_scores, scored = _kernels.factor_top_k(
        users, customers, np.ascontiguousarray(q[order]), candidates[order], norms[order], 12, 16, 8,
        indptr, indices, position,
    )
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_array_equal(got_scores, want_scores)
    assert scored.shape == (16,)
    # and through the public routine, asking for more articles than there are candidates
    ids, _ = score_top_k(users, items, customers, candidates, 80, exclude=exclude)
    np.testing.assert_array_equal(ids, _reference.top_k_ref(dense, 80)[0])


def test_pruning_skips_candidates_that_cannot_win() -> None:
    rng = np.random.default_rng(5)
    users = rng.standard_normal((256, 4)).astype(np.float32)
    # article norms fall fast, as the norms of popular vs rare articles do in a factor model
    items = (rng.standard_normal((2000, 4)) * 0.99 ** np.arange(2000)[:, None]).astype(np.float32)
    norms = np.linalg.norm(items, axis=1).astype(np.float32)
    order = np.lexsort((np.arange(2000), -norms))
    customers = np.arange(256, dtype=np.int64)
    ids, _, scored = _kernels.factor_top_k(
        users, customers, np.ascontiguousarray(items[order]), order.astype(np.int32), norms[order],
        12, 64, 128,
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32), np.argsort(order),
    )
    assert scored.sum() < 0.5 * 2000 * scored.size
    np.testing.assert_array_equal(ids, _reference.top_k_ref(users @ items.T, 12)[0])


def test_balanced_chunks_cover_every_row_once() -> None:
    indptr = np.cumsum(np.r_[0, np.random.default_rng(5).integers(0, 100, 1000)])
    bounds = _kernels.balanced_chunks(indptr, 16, 8)
    assert bounds[0] == 0 and bounds[-1] == 1000 and np.all(np.diff(bounds) > 0)
    work = np.diff(indptr[bounds]) + 8 * np.diff(bounds)
    assert work.max() < 2 * work.mean()


# ---------------------------------------------------------------------- training
@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_loss_falls_every_iteration(planted: Dataset, solver: str) -> None:
    model = ALS(factors=8, iterations=8, solver=solver, reg=0.1, recent_weeks=None).fit(planted)
    losses = model.loss_history_
    assert losses.size == 8
    assert np.all(np.diff(losses) < 0), losses


def test_cg_agrees_with_cholesky(planted: Dataset) -> None:
    conf = confidence_matrix(planted.interactions(), alpha=10.0)
    exact = ALSSolver(conf, factors=8, reg=0.1, solver="cholesky", cg_steps=3, threads=2, seed=0)
    cg3 = ALSSolver(conf, factors=8, reg=0.1, solver="cg", cg_steps=3, threads=2, seed=0)
    cg5 = ALSSolver(conf, factors=8, reg=0.1, solver="cg", cg_steps=5, threads=2, seed=0)
    for iteration in range(30):
        exact.iterate()
        cg3.iterate()
        cg5.iterate()
        if iteration == 14:  # 5 warm-started steps per row track the exact solver closely
            assert cg5.loss() == pytest.approx(exact.loss(), rel=0.01)
    # 3 steps (the default) lag at first and catch up with the iterations
    assert cg3.loss() == pytest.approx(exact.loss(), rel=0.02)
    # in exact arithmetic CG solves an f-dimensional system in f steps; in float32 give it twice as many
    y = np.random.default_rng(6).standard_normal((conf.shape[1], 8), dtype=np.float32)
    bounds = _kernels.balanced_chunks(conf.indptr, 4, 8)
    by_cg = np.zeros((conf.shape[0], 8), dtype=np.float32)
    by_cholesky = by_cg.copy()
    _kernels.als_cg(conf.indptr, conf.indices, conf.data, by_cg, y, gram(y, 0.1), 16, bounds)
    yty64 = gram(y, 0.1).astype(np.float64)
    _kernels.als_cholesky(conf.indptr, conf.indices, conf.data, by_cholesky, y, yty64, bounds)
    np.testing.assert_allclose(by_cg, by_cholesky, rtol=1e-3, atol=1e-3)


def test_planted_structure_is_recovered(split: tuple[Dataset, Dataset]) -> None:
    train, test = split
    model = ALS(factors=8, recent_weeks=None).fit(train)
    warm = np.flatnonzero(np.diff(train.interactions().indptr) > 0)
    scores = model.user_factors_[warm] @ model.item_factors_.T
    # held-out purchases rank among the customer's group's articles: the top 60 / 4 = 15 of 60
    truth = test.interactions(binary=True)[warm].tocoo()
    rank = (scores[truth.row] > scores[truth.row, truth.col][:, None]).sum(axis=1)
    assert np.mean(rank < 15) > 0.95
    ids, _ = model.recommend(warm, 12)
    assert np.mean(ids % GROUPS == (warm % GROUPS)[:, None]) > 0.95


def test_same_seed_same_factors_and_refit_from_scratch(
    split: tuple[Dataset, Dataset], planted: Dataset
) -> None:
    train, _ = split
    a = ALS(factors=8, iterations=5, seed=3).fit(train)
    b = ALS(factors=8, iterations=5, seed=3).fit(train)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    c = ALS(factors=8, iterations=5, seed=4).fit(train)
    assert not np.allclose(a.item_factors_, c.item_factors_)
    # a second fit (on other data, then on the first again) equals a single fit: nothing is carried over
    b.fit(planted).fit(train)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)


def test_thread_count_does_not_change_the_result(split: tuple[Dataset, Dataset]) -> None:
    train, _ = split
    one = ALS(factors=8, iterations=3, threads=1).fit(train)
    two = ALS(factors=8, iterations=3, threads=2).fit(train)
    np.testing.assert_array_equal(one.user_factors_, two.user_factors_)


# ---------------------------------------------------------------------- recommending
def test_recommend_shapes_cold_fallback_and_filter(split: tuple[Dataset, Dataset]) -> None:
    train, _ = split
    customers = np.arange(train.n_customers)
    model = ALS(factors=8, iterations=5, recent_weeks=None).fit(train)
    ids, scores = model.recommend(customers, 12)
    assert ids.shape == scores.shape == (train.n_customers, 12)
    assert ids.dtype == np.int32 and scores.dtype == np.float32
    assert np.all(np.diff(scores, axis=1) <= 0)
    # the planted data's last 5 customers never buy: they get the popularity ranking
    cold = customers[-5:]
    assert not model.has_history_[cold].any()
    np.testing.assert_array_equal(ids[cold], np.tile(model.fallback_ids_[:12], (5, 1)))
    # batch and one-by-one results agree
    single = np.vstack([model.recommend(np.array([c]), 12)[0] for c in (0, 7, 238)])
    np.testing.assert_array_equal(single, ids[[0, 7, 238]])
    # filter_bought never returns a bought article
    filtered = ALS(factors=8, iterations=5, recent_weeks=None, filter_bought=True).fit(train)
    fids, _ = filtered.recommend(customers, 12)
    seen = train.interactions(binary=True)
    assert not np.any(np.asarray(seen[np.repeat(customers, 12), fids.ravel()]).ravel() > 0)
    # k beyond the number of candidates pads with -1 / -inf
    wide, wide_scores = model.recommend(customers[:3], 70)
    assert np.all(wide[:, 60:] == -1) and np.all(np.isneginf(wide_scores[:, 60:]))


def test_candidates_are_recent_articles(split: tuple[Dataset, Dataset]) -> None:
    train, _ = split
    model = ALS(factors=8, iterations=3, recent_weeks=1).fit(train)
    assert train.end_date is not None
    last_week = train.between(train.end_date - dt.timedelta(days=6), None).transactions["article_idx"]
    np.testing.assert_array_equal(model.candidates_, np.sort(last_week.unique().to_numpy()))
    ids, _ = model.recommend(np.arange(train.n_customers), 12)
    assert np.isin(ids[ids >= 0], model.candidates_).all()


def test_repurchase_blend_puts_own_purchases_first(split: tuple[Dataset, Dataset]) -> None:
    train, _ = split
    model = create(
        "als+repurchase", fallback__factors=8, fallback__iterations=3, fallback__recent_weeks=None
    ).fit(train)
    customers = np.arange(train.n_customers)
    ids, scores = model.recommend(customers, 12)
    own = train.interactions(binary=True)
    n_own = np.minimum(np.diff(own.indptr), 12)
    for c in (0, 1, 100):  # a few customers: their first n_own ids are exactly their purchases
        bought = set(own.indices[own.indptr[c] : own.indptr[c + 1]].tolist())
        assert n_own[c] > 0
        assert set(ids[c, : n_own[c]].tolist()) <= bought
        assert len(set(ids[c].tolist())) == 12
        # own purchases score their time-decayed count (> 0, the floor); the ALS part is mapped below 0
        assert (scores[c, : n_own[c]] > 0).all() and (scores[c, n_own[c] :] < 0).all()
    sources = model.source(customers[:2], 12)  # type: ignore[attr-defined]
    assert set(sources.ravel().tolist()) <= {"primary", "fallback"}
    np.testing.assert_array_equal(sources == "primary", scores[:2] > 0)


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        ALS().recommend(np.array([0]))
    with pytest.raises(ParameterError, match="solver"):
        ALS(solver="lu").fit(Dataset.from_frames(*_reference.planted_frames()))
    with pytest.raises(ParameterError, match="factors"):
        ALS(factors=0).fit(Dataset.from_frames(*_reference.planted_frames()))


@pytest.mark.parametrize(
    ("name", "value"), [("reg", float("nan")), ("reg", float("inf")), ("alpha", float("nan")), ("alpha", 1e308)]
)
def test_non_finite_or_huge_floats_are_refused(name: str, value: float) -> None:
    # through the Python API no --param parsing stands in the way: the model's own check must refuse them
    with pytest.raises(ParameterError, match=f"'{name}'"):
        ALS(**{name: value}).fit(Dataset.from_frames(*_reference.planted_frames()))


def test_factors_that_do_not_fit_in_memory_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def tiny_memory(needed: int, what: str, fix: str = "") -> None:
        seen.append(needed)
        raise ParameterError(f"{what} would need more memory (fix: {fix})")

    monkeypatch.setattr("hmrec.models.scoring.check_memory", tiny_memory)
    data = Dataset.from_frames(*_reference.planted_frames())
    with pytest.raises(ParameterError, match=r"factors=512 .* \(fix: use fewer factors"):
        ALS(factors=512).fit(data)
    assert seen == [8 * (data.n_customers + data.n_articles) * 512]
