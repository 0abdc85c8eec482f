"""MAP@12 of the matrix-factorization models over a small grid of their options, on one test week.

Usage: python benchmarks/tune_mf.py [--data DIR | --scale small] [--seed 0] [--test-end YYYY-MM-DD]
       [--weeks 1] [--only als,sgd-bpr,sgd-mse] [--threads 0]

Without ``--data`` the synthetic data set of ``--scale`` is generated (seed ``--seed``) in a temporary
directory. Trains on everything before the 7-day test window ending at ``--test-end`` (default: the data's last
day) and scores MAP@12 of the customers who bought in that window. Tune on a backtest week
(``--test-end 2020-09-15`` on the generated data) so that the final week stays unseen. ``--weeks N`` (used by
``sgd-mse`` only; the other models tune on the week ending at ``--test-end``) scores every setting on N
consecutive weeks ending at ``--test-end``, each trained on everything before it, and prints each week's
figure and their mean.

The grid is searched one coordinate group at a time rather than as a full product (a full product of the
options below is ~100 ALS fits, too many for a shared 2-core machine):

* ``als``: at ``factors=64`` (the issue fixes it) and ``reg=0.1``, the confidence slope ``alpha`` x the time
  decay ``half_life_days`` of the purchase weights (they interact: a first pass over ``alpha`` without decay,
  then the decay at that ``alpha``, stopped at alpha=5 while, with a 30-day decay, alpha=20-40 is ~15%
  better); then ``reg`` at the best pair; then ``factors`` 32/64/128 at the best, for information.
* scoring options of the best ALS fit, without refitting (they do not change the factors): candidate window
  ``recent_weeks`` x ``filter_bought``; and the ``als+repurchase`` blend on the same factors
  (``als+repurchase`` fits exactly what ``als`` fits, only its scoring differs).
* ``sgd-bpr``: ``learning_rate``, with MAP@12 after 10, 20, 40 and 80 epochs taken from one run
  (the step size of epoch ``e`` is ``learning_rate / (1 + lr_decay e)`` whatever the total, so stopping a
  80-epoch run after 10 epochs is exactly a 10-epoch fit); then ``filter_bought`` and the
  ``sgd+repurchase`` blend on the best factors.
* ``sgd-mse``: one option at a time, each stage starting from the best setting so far (mean MAP@12 over the
  weeks, at its best epoch count among 10, 20 and 40; an option must beat it by 1%): ``learning_rate``; the
  confidence ``alpha`` x the time decay ``half_life_days`` (as for ALS); ``reg``; ``neg_samples`` (``factors``
  stays 64, as for ALS); then the best setting for 40, 60 and 80 epochs, and ``filter_bought`` and the
  candidate window ``recent_weeks`` on its factors. A setting that diverges is reported and skipped.
  ``--mse-start JSON --mse-stages 3`` resumes the search at stage 3 (from 0) from that setting.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.load import load_dataset
from hmrec.data.split import time_split, windows
from hmrec.errors import ParameterError
from hmrec.metrics import map_at_k
from hmrec.models.base import Recommender
from hmrec.models.compose import Fill
from hmrec.models.scoring import FactorRecommender
from hmrec.models.sgd import SGDModel
from hmrec.progress import set_quiet
from hmrec.registry import create

ALS_FACTORS = (32, 64, 128)
ALS_ALPHAS = (1.0, 5.0, 10.0, 40.0, 100.0, 200.0)
ALS_REGS = (0.01, 0.1, 1.0, 10.0)
HALF_LIVES: tuple[float | None, ...] = (None, 7.0, 14.0, 30.0)
RECENT_WEEKS: tuple[float | None, ...] = (1, 2, 4, None)
SGD_RATES = {"sgd-bpr": (0.05, 0.1, 0.2)}
SGD_CHECKPOINTS = (10, 20, 40, 80)
SGD_MSE_CHECKPOINTS = (10, 20, 40)
SGD_MSE_LONGER = (40, 60, 80)
#: the sgd-mse stages, searched in this order (see the module docstring)
SGD_MSE_STAGES: list[list[dict[str, Any]]] = [
    [{"learning_rate": r} for r in (0.005, 0.01, 0.02, 0.05)],
    [{"alpha": a, "half_life_days": h} for a, h in ((1.0, None), (10.0, None), (10.0, 7.0), (100.0, 7.0))],
    [{"reg": r} for r in (0.0, 0.002, 0.02)],
    [{"neg_samples": n} for n in (1, 4, 8)],
]


class Week:
    """One train/test cut and its scoring: MAP@12 of a fitted model on the buyers of the test week."""

    def __init__(self, dataset: Dataset, test_end: str | None) -> None:
        split = time_split(dataset, test_end=test_end)
        self.train = split.train
        truth = split.test.interactions(binary=True)
        self.buyers = np.flatnonzero(truth.getnnz(axis=1) > 0)
        self.truth = truth[self.buyers]
        print(f"train until {split.train_end}, {self.buyers.size:,} buyers in {split.test_start}..{split.test_end}")

    @classmethod
    def backtest(cls, dataset: Dataset, weeks: int, test_end: str | None) -> list[Week]:
        """``weeks`` consecutive weeks ending at ``test_end``, oldest first."""
        return [cls(dataset, str(window.test_end)) for window in windows(dataset, weeks, 7, test_end)]

    def score(self, model: Recommender) -> float:
        ids, _ = model.recommend(self.buyers, 12)
        return map_at_k(ids, self.truth, 12)


def rescored(
    fitted: FactorRecommender, name: str, week: Week, params: dict[str, Any], **scoring: Any
) -> FactorRecommender:
    """A ``name`` model with ``fitted``'s factors and other scoring options (the factors are not refit).

    Uses the models' private scoring step on purpose: the scoring options only change what ``fit`` derives
    after the factors, so this equals a full fit with those options and costs a fraction of a second.
    """
    model = create(name, **{**params, **scoring})
    assert isinstance(model, FactorRecommender)
    model.user_factors_ = fitted.user_factors_
    model.item_factors_ = fitted.item_factors_
    history: sp.csr_matrix = week.train.interactions(half_life_days=params.get("half_life_days"))
    model._fit_scoring(week.train, history)
    return model


def line(name: str, params: dict[str, Any], score: float, seconds: float | None = None) -> None:
    took = f"  ({seconds:.1f} s)" if seconds is not None else ""
    print(f"{name:15} {params!s:58} MAP@12 {score:.5f}{took}", flush=True)


def tune_als(week: Week, threads: int) -> None:
    base = {"threads": threads, "track_loss": False}
    results: dict[tuple[int, float, float, float | None], tuple[float, FactorRecommender]] = {}

    def run(factors: int, alpha: float, reg: float, half_life: float | None) -> float:
        key = (factors, alpha, reg, half_life)
        if key not in results:
            params = {**base, "factors": factors, "alpha": alpha, "reg": reg, "half_life_days": half_life}
            started = time.perf_counter()
            model = create("als", **params).fit(week.train)
            assert isinstance(model, FactorRecommender)
            results[key] = (week.score(model), model)
            shown = {"factors": factors, "alpha": alpha, "reg": reg, "half_life_days": half_life}
            line("als", shown, results[key][0], time.perf_counter() - started)
        return results[key][0]

    # alpha and the time decay interact: decayed weights w are smaller, so the confidence 1 + alpha w needs a
    # larger alpha to weigh the same; they are searched together
    for half_life in HALF_LIVES:
        for alpha in ALS_ALPHAS:
            run(64, alpha, 0.1, half_life)
    alpha, half_life = max(
        ((a, h) for a in ALS_ALPHAS for h in HALF_LIVES), key=lambda ah: run(64, ah[0], 0.1, ah[1])
    )
    reg = max(ALS_REGS, key=lambda r: run(64, alpha, r, half_life))
    for factors in ALS_FACTORS:  # for information: the issue keeps factors=64
        run(factors, alpha, reg, half_life)
    print(f"best als at factors=64: alpha={alpha}, reg={reg}, half_life_days={half_life}")
    fitted = results[(64, alpha, reg, half_life)][1]
    params = {**base, "factors": 64, "alpha": alpha, "reg": reg, "half_life_days": half_life}
    for recent in RECENT_WEEKS:
        for filter_bought in (False, True):
            scoring = {"recent_weeks": recent, "filter_bought": filter_bought}
            line("als", scoring, week.score(rescored(fitted, "als", week, params, **scoring)))
    for own, scoring in (({}, {}), ({"half_life_days": 30.0}, {}), ({"max_weeks": 26.0}, {}),
                         ({}, {"recent_weeks": 2}), ({}, {"recent_weeks": None})):
        # als+repurchase = Fill(history, als): the history part refit, the ALS part rescored
        blend = Fill(create("history", **own).fit(week.train), rescored(fitted, "als", week, params, **scoring))
        blend.n_customers_, blend.n_articles_ = week.train.n_customers, week.train.n_articles
        named = {**{f"primary__{k}": v for k, v in own.items()}, **{f"fallback__{k}": v for k, v in scoring.items()}}
        line("als+repurchase", named, week.score(blend))


def sgd_checkpoints(
    name: str, params: dict[str, Any], week: Week, checkpoints: tuple[int, ...] = SGD_CHECKPOINTS
) -> Iterator[tuple[int, SGDModel]]:
    """The model after each of ``checkpoints`` epochs of one run (what ``SGDModel.fit`` does, paused)."""
    model = create(name, **{**params, "epochs": max(checkpoints)})
    assert isinstance(model, SGDModel)
    threads = model._validate()
    weights = week.train.interactions(half_life_days=model.half_life_days)
    trainer = model._trainer(weights, threads)
    model._fit_scoring(week.train, weights)
    for epoch in range(max(checkpoints)):
        # as in fit: a step size too large diverges to inf/NaN (ParameterError, reported by the caller)
        model._check_finite(trainer.epoch(epoch, model._lr(epoch)), epoch)
        if epoch + 1 in checkpoints:
            model.user_factors_, model.item_factors_ = trainer.x.copy(), trainer.y.copy()
            yield epoch + 1, model


def tune_sgd(name: str, week: Week, threads: int) -> None:
    best: tuple[float, dict[str, Any], SGDModel | None] = (-1.0, {}, None)
    for rate in SGD_RATES[name]:
        started = time.perf_counter()
        params = {"threads": threads, "learning_rate": rate}
        try:
            for epochs, model in sgd_checkpoints(name, params, week):
                score = week.score(model)
                line(name, {"learning_rate": rate, "epochs": epochs}, score, time.perf_counter() - started)
                if score > best[0]:
                    best = (score, {**params, "epochs": epochs}, model)
                    best_factors = model.user_factors_, model.item_factors_
        except ParameterError as exc:
            print(f"{name:15} {{'learning_rate': {rate}}} {exc}")
    _, params, fitted = best
    assert fitted is not None
    fitted.user_factors_, fitted.item_factors_ = best_factors
    print(f"best {name}: {params}")
    line(name, {"filter_bought": True}, week.score(rescored(fitted, name, week, params, filter_bought=True)))
    line(name, {"recent_weeks": 2}, week.score(rescored(fitted, name, week, params, recent_weeks=2)))
    if name == "sgd-bpr":
        # sgd+repurchase = Fill(history, sgd-bpr): the history part fitted, the SGD part as found
        blend = Fill(create("history").fit(week.train), rescored(fitted, name, week, params))
        blend.n_customers_, blend.n_articles_ = week.train.n_customers, week.train.n_articles
        line("sgd+repurchase", {}, week.score(blend))


def mse_run(
    params: dict[str, Any],
    weeks: list[Week],
    threads: int,
    checkpoints: tuple[int, ...],
    keep: dict[int, list[SGDModel]] | None = None,
) -> dict[int, list[float]] | None:
    """MAP@12 per week of one sgd-mse setting after each of ``checkpoints`` epochs; None if it diverged.

    ``keep``: filled with a copy of the model of every week at every checkpoint.
    """
    name = "sgd-mse"
    started = time.perf_counter()
    per_epoch: dict[int, list[float]] = {e: [] for e in checkpoints}
    try:
        for week in weeks:
            for epochs, model in sgd_checkpoints(name, {**params, "threads": threads}, week, checkpoints):
                per_epoch[epochs].append(week.score(model))
                if keep is not None:
                    keep.setdefault(epochs, []).append(copy.copy(model))
    except ParameterError as exc:
        print(f"{name:15} {params!s:58} {str(exc)[:70]}", flush=True)
        return None
    took = time.perf_counter() - started
    for epochs, scores in per_epoch.items():
        weekly = " ".join(f"{s:.5f}" for s in scores)
        print(f"{name:15} {str({**params, 'epochs': epochs}):58} MAP@12 {np.mean(scores):.5f}  "
              f"weeks {weekly}  ({took:.0f} s for all)", flush=True)
    return per_epoch


def tune_sgd_mse(
    weeks: list[Week], threads: int, start: dict[str, Any] | None = None, stages: set[int] | None = None
) -> None:
    """The staged search of ``SGD_MSE_STAGES`` on every week (see the module docstring).

    ``start``: the setting the first stage starts from (default: the defaults); ``stages``: the numbers (from 0)
    of the stages to run (default: all), to resume a search.
    """
    name = "sgd-mse"
    defaults = create(name).get_params()

    def setting(params: dict[str, Any]) -> str:  # a setting's key: the options that differ from the defaults
        return repr(sorted((k, v) for k, v in params.items() if defaults.get(k) != v))

    best: dict[str, Any] = {}
    best_score = -1.0
    seen: dict[str, tuple[float, int]] = {}
    if start is not None:
        best = start
    for number, stage in enumerate(SGD_MSE_STAGES):
        if stages is not None and number not in stages:
            continue
        base = best
        for option in stage:
            params = {**base, **option}
            key = setting(params)
            if key not in seen:
                per_epoch = mse_run(params, weeks, threads, SGD_MSE_CHECKPOINTS)
                if per_epoch is None:
                    seen[key] = (-1.0, 0)
                    continue
                top = max(per_epoch, key=lambda e: np.mean(per_epoch[e]))
                seen[key] = (float(np.mean(per_epoch[top])), top)
        # an option replaces the setting it started from only if it scores more than 1% higher (differences
        # smaller than that are within the week-to-week noise: the earlier setting, or the default, is kept)
        base_score = seen.get(setting(base), (-1.0, 0))[0]
        for option in stage:
            params = {**base, **option}
            if seen[setting(params)][0] > max(best_score, 1.01 * base_score):
                best_score, best = seen[setting(params)][0], params
    print(f"best {name} of the stages: {best}", flush=True)
    # the best setting trained longer: the stages stop at 40 epochs, where the best was still improving
    models: dict[int, list[SGDModel]] = {}
    longer = mse_run(best, weeks, threads, SGD_MSE_LONGER, keep=models)
    assert longer is not None
    epochs = max(longer, key=lambda e: np.mean(longer[e]))
    print(f"best {name}: {best}, epochs {epochs}, mean MAP@12 {np.mean(longer[epochs]):.5f}")
    params = {**best, "threads": threads, "epochs": epochs}
    options: list[dict[str, Any]] = [
        {"filter_bought": True}, {"recent_weeks": 2}, {"recent_weeks": 4}, {"recent_weeks": None}
    ]
    rescores: list[list[float]] = [[] for _ in options]
    for week, fitted in zip(weeks, models[epochs], strict=True):
        for scoring, scores in zip(options, rescores, strict=True):
            scores.append(week.score(rescored(fitted, name, week, params, **scoring)))
    for scoring, scores in zip(options, rescores, strict=True):
        weekly = " ".join(f"{s:.5f}" for s in scores)
        print(f"{name:15} {scoring!s:58} MAP@12 {np.mean(scores):.5f}  weeks {weekly}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-end", default=None, help="last day of the 7-day test window (YYYY-MM-DD)")
    parser.add_argument("--only", default="als,sgd-bpr,sgd-mse", help="comma-separated: als, sgd-bpr, sgd-mse")
    parser.add_argument("--threads", type=int, default=0, help="numba threads (0: all)")
    parser.add_argument("--weeks", type=int, default=1, help="sgd-mse: consecutive test weeks ending at --test-end")
    parser.add_argument("--mse-start", type=json.loads, default=None,
                        help='sgd-mse: start the stages from this setting (JSON, e.g. {"reg": 0.0})')
    parser.add_argument("--mse-stages", default=None, help="sgd-mse: comma-separated stage numbers to run (from 0)")
    args = parser.parse_args()
    set_quiet(True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data
        if data_dir is None:
            from hmrec.synthetic import generate

            data_dir = Path(tmp) / args.scale
            generate(data_dir, scale=args.scale, seed=args.seed, progress=False)
        dataset = load_dataset(data_dir, progress=False)
        names = args.only.split(",")
        weeks = Week.backtest(dataset, args.weeks if "sgd-mse" in names else 1, args.test_end)
        week = weeks[-1]  # the week ending at --test-end
        started = time.perf_counter()
        for name in names:
            if name == "als":
                tune_als(week, args.threads)
            elif name == "sgd-mse":
                stages = None if args.mse_stages is None else {int(n) for n in args.mse_stages.split(",")}
                tune_sgd_mse(weeks, args.threads, args.mse_start, stages)
            else:
                tune_sgd(name, week, args.threads)
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
