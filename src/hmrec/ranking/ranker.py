"""The two-stage recommender ``ranker``: candidate sources, then a LightGBM ranker over their union.

Fitting on ``train`` (last day ``T``):

0. **Taste keys.** Which combinations of article columns carry customers' taste is learned on the validation
   week (:func:`hmrec.ranking.taste.learn_keys`): the taste source and the taste features use them, and they
   are saved with the model (``taste_keys_``), shown by ``recommend --explain`` and in the results report.
1. **Training weeks.** For cut-offs ``T - 7w`` (``w = 1`` is the validation week, ``w = 2..weeks + 1`` the
   training weeks), the sources and :class:`~hmrec.ranking.features.FeatureTables` are fitted on the data up to
   the cut-off only, and the candidates of the customers who bought in the 7 days after it are labelled by
   those purchases (1 = bought). Customers none of whose candidates they bought are dropped; negatives are
   sampled down to about ``negatives`` per positive (a seeded hash of the pair decides, so the sample does not
   depend on the block size).
2. **LightGBM** (``objective``: ``lambdarank`` grouped by (customer, week), or ``binary``) trains on the
   training weeks with early stopping on the validation week (MAP@12 of the candidates there). Deterministic:
   ``deterministic``, ``force_row_wise``, fixed ``threads`` and ``seed``. With several objectives
   (``lambdarank,binary``) one booster per objective trains on the same rows and the ranker scores by their
   **blend**: each booster's score standardized by its mean and deviation on the validation rows, weighted by
   the weights (a grid on the simplex) that give the best MAP@12 of the validation week's candidates
   (:mod:`hmrec.ranking.boosters`).
3. **The final cut-off** ``T``: sources and tables fitted on all of ``train``; ``recommend`` builds the
   candidates and features of blocks of customers, scores them with the booster and keeps the top ``k``.

Nothing from after ``T`` is read at any step (the evaluation gives ``fit`` only the data before its test
week). Customers who bought nothing in the last ``active_weeks`` weeks get ``inactive_scale`` times fewer
candidates per source (at least 1 each; the global popularity list keeps its length): most customers are
inactive, and the ranker's cost is per candidate. Every customer gets the popularity sources' candidates, so
cold customers are ranked too; a list is shorter than ``k`` only when the sources proposed fewer articles
(padded with -1 / -inf).

What one cut-off holds (its fitted sources and feature tables) and the helpers that stack and cut candidates
are in :mod:`hmrec.ranking.cutoff`, the union of the sources' lists in :mod:`hmrec.ranking.candidates`, the
checks of a saved ranker's arrays in :mod:`hmrec.ranking.saved`, its boosters' files and blend in
:mod:`hmrec.ranking.boosters`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.atomic import write_atomic
from hmrec.data.dataset import Dataset
from hmrec.errors import DataError, ParameterError
from hmrec.models._params import check_customers, check_int, check_pairs, check_positive
from hmrec.models.base import DEFAULT_K, Recommender, check_k, register, write_saved
from hmrec.models.compose import SEP, as_part
from hmrec.models.lists import sorted_lookup
from hmrec.models.popularity import splitmix64
from hmrec.progress import progress_bar
from hmrec.ranking.boosters import OBJECTIVES, blend_predict, booster_files, fit_blend, read_booster
from hmrec.ranking.candidates import Candidates, pair_hits
from hmrec.ranking.cutoff import (
    CutoffState,
    Rows,
    RowsOfBlocks,
    concat_candidates,
    history_start,
    subset_candidates,
    top_k_rows,
)
from hmrec.ranking.features import (
    CUSTOMER_FEATURES,
    FAMILIES,
    FeatureTables,
    family_of,
    feature_names,
)
from hmrec.ranking.saved import check_saved
from hmrec.ranking.sources import (
    SOURCE_PARAM_PREFIX,
    SOURCES,
    Source,
    SourceContext,
    make_source,
    model_sources,
    parse_sources,
    source_param_names,
)
from hmrec.ranking.taste import TasteKey, learn_keys

#: default candidate sources and how many each proposes per customer
DEFAULT_SOURCES = "repurchase:24,product:12,copurchase:24,popularity:24,age:12,trending:12,als:24,taste:24"
#: customers per block when building and scoring candidates (bounds memory: ~150 candidates x 60 features)
BLOCK_CUSTOMERS = 50_000


@register(
    "ranker",
    "Two-stage: candidates from several sources (own purchases, other colours, co-purchase, popularity, "
    "trending, ALS, the customer's taste in the attributes the data shows it in), re-ranked by LightGBM on "
    "customer, article and pair features.",
)
class Ranker(Recommender):
    """The two-stage model (see the module docstring).

    Args:
        sources: candidate sources and their list lengths, ``"name:n,..."`` (names: repurchase, product,
            copurchase, popularity, age, trending, als, cluster, taste, bpr).
        weeks: training weeks before the validation week. 4 by backtest on small (two test weeks ending
            2020-09-15, second calibration pass, taste source): MAP@12 0.0480 with 4 weeks, 0.0481 with 6
            (repurchase 0.0289), for two thirds of the fitting time: the full-scale submit budget.
        objective: ``lambdarank`` or ``binary``, or several comma-separated (``lambdarank,binary``): one
            booster each on the same rows, blended with weights fitted on the validation week (the first is
            saved as ``booster.txt``, the others as ``booster-<objective>.txt``).
        trees: most boosting rounds (early stopping on the validation week picks fewer). 150: at full scale
            early stopping took 261 at the 0.05 learning rate, and scoring 1.37M customers costs in
            proportion (docs/benchmarks.md: the submit budget).
        leaves: leaves per tree.
        learning_rate: shrinkage.
        negatives: negatives kept per positive in the training rows (sampled).
        min_child_samples: LightGBM's ``min_data_in_leaf``.
        active_weeks: a customer with no purchase in this many weeks is "inactive".
        history_weeks: sources and features see only the last ``history_weeks`` weeks before each cut-off
            (None: all the data; a window bounds the cost on two years of data).
        inactive_scale: inactive customers get ``n // inactive_scale`` (>= 1) candidates per source.
        max_buyers: at most this many of each training and validation week's buyers give rows (a seeded hash
            of the customer picks them; None: all). Bounds the training sample, which otherwise grows with the
            customer base (docs/scale-out.md: the driver at 10x).
        drop_features: comma-separated feature families left out (customer, article, pair, source), for the
            ablation.
        threads: LightGBM and ALS threads (fixed, for determinism).
        seed: seeds the negative sample, LightGBM, ALS and k-means.
        source__<source>__<param>: a parameter of the model behind a model source (``als``: the ``als``
            model, ``cluster``: ``kmeans-customers``, ``bpr``: ``sgd-bpr``), e.g. ``source__als__factors=64``;
            their seed and threads are the ranker's. :func:`hmrec.ranking.sources.source_param_names` lists
            them.
    """

    n_customers_: int
    n_articles_: int
    cutoff_: str
    best_iteration_: int
    train_rows_: int
    feature_importance_: np.ndarray
    taste_keys_: str  # JSON: [{"columns": [...], "gain": g, "recall": r}, ...], best first (a string, as saved)

    def __init__(
        self,
        sources: str = DEFAULT_SOURCES,
        weeks: int = 4,
        objective: str = "lambdarank",
        trees: int = 150,
        leaves: int = 31,
        learning_rate: float = 0.05,
        negatives: float = 20.0,
        min_child_samples: int = 50,
        active_weeks: float = 13,
        inactive_scale: int = 4,
        history_weeks: float | None = 26,
        max_buyers: int | None = None,
        drop_features: str = "",
        threads: int = 2,
        seed: int = 0,
        **source_params: Any,
    ) -> None:
        self.sources = sources
        self.weeks = weeks
        self.objective = objective
        self.trees = trees
        self.leaves = leaves
        self.learning_rate = learning_rate
        self.negatives = negatives
        self.min_child_samples = min_child_samples
        self.active_weeks = active_weeks
        self.inactive_scale = inactive_scale
        self.history_weeks = history_weeks
        self.max_buyers = max_buyers
        self.drop_features = drop_features
        self.threads = threads
        self.seed = seed
        #: per model source, the parameters given for its model (the others keep the source's defaults)
        self.source_params: dict[str, dict[str, Any]] = {}
        self.set_params(**source_params)

    # ------------------------------------------------------------------ parameters
    @classmethod
    def param_names(cls) -> list[str]:
        return [*super().param_names(), *source_param_names()]

    def get_params(self) -> dict[str, Any]:
        """The ranker's own parameters, then every model source's (``source__als__factors``), as in effect."""
        params = {name: getattr(self, name) for name in super().param_names()}
        for name, source in model_sources().items():
            values = {**source.default_params(), **self.source_params.get(name, {})}
            params.update({f"{SOURCE_PARAM_PREFIX}{name}{SEP}{key}": value for key, value in values.items()})
        return params

    def set_params(self, **params: Any) -> Self:
        own = {key: value for key, value in params.items() if not key.startswith(SOURCE_PARAM_PREFIX)}
        super().set_params(**own)
        allowed = source_param_names()
        for key, value in params.items():
            if key in own:
                continue
            if key not in allowed:
                raise ParameterError(
                    f"model '{self.name}' has no parameter '{key}' (allowed: {', '.join(allowed)})"
                )
            source, _, param = key[len(SOURCE_PARAM_PREFIX):].partition(SEP)
            self.source_params.setdefault(source, {})[param] = value
        return self

    def _validate_source_params(self, used: Mapping[str, int]) -> None:
        """Each model source's parameters checked by its model, named as the ranker takes them."""
        for name, source in model_sources().items():
            given = self.source_params.get(name, {})
            if name in used or given:
                with as_part(self.name, f"{SOURCE_PARAM_PREFIX}{name}{SEP}"):
                    source.build(given, seed=int(self.seed), threads=int(self.threads))

    def _validate(self) -> dict[str, int]:
        counts = parse_sources(self.sources)
        check_int("weeks", self.weeks, model="ranker", low=1)
        check_int("trees", self.trees, model="ranker", low=1)
        check_int("leaves", self.leaves, model="ranker", low=2)
        check_int("min_child_samples", self.min_child_samples, model="ranker", low=1)
        check_int("inactive_scale", self.inactive_scale, model="ranker", low=1)
        check_int("threads", self.threads, model="ranker", low=1)
        check_int("seed", self.seed, model="ranker", low=0)
        check_positive("learning_rate", self.learning_rate, model="ranker")
        check_positive("negatives", self.negatives, model="ranker")
        check_positive("active_weeks", self.active_weeks, model="ranker")
        if self.history_weeks is not None:
            check_positive("history_weeks", self.history_weeks, model="ranker", low=1.0)
        if self.max_buyers is not None:
            check_int("max_buyers", self.max_buyers, model="ranker", low=1)
        self._objectives()
        self._dropped_families()
        self._validate_source_params(counts)
        return counts

    def _objectives(self) -> list[str]:
        names = [o.strip() for o in str(self.objective).split(",")]
        if not names or any(o not in OBJECTIVES for o in names) or len(set(names)) != len(names):
            raise ParameterError(
                f"ranker: parameter 'objective' must be one or more of {', '.join(OBJECTIVES)} (comma-separated, "
                f"each once), got {self.objective!r}"
            )
        return names

    def booster_files(self) -> tuple[str, ...]:
        """The file of each objective's booster, in the order of ``objective``."""
        return booster_files(self._objectives())

    def _dropped_families(self) -> set[str]:
        dropped = {f.strip() for f in str(self.drop_features).split(",") if f.strip()}
        unknown = dropped - set(FAMILIES)
        if unknown:
            raise ParameterError(
                f"ranker: parameter 'drop_features' has unknown family '{sorted(unknown)[0]}' "
                f"(fix: choose from {', '.join(FAMILIES)})"
            )
        return dropped

    def _columns(self, counts: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
        """Feature names used and their column positions in the full feature matrix."""
        names = feature_names(list(counts))
        dropped = self._dropped_families()
        keep = np.array([i for i, n in enumerate(names) if family_of(n) not in dropped], dtype=np.int64)
        return [names[i] for i in keep], keep

    def _counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Candidates per source for active and for inactive customers. The popularity lists keep their
        length for everyone: they are what an inactive customer's list is made of, and cost no look-up."""
        counts = parse_sources(self.sources)
        inactive = {
            name: n if SOURCES[name].full_for_inactive else max(1, n // int(self.inactive_scale))
            for name, n in counts.items()
        }
        return counts, inactive

    # ------------------------------------------------------------------ training
    def first_day_read(self, end: dt.date) -> dt.date | None:
        """The first transaction day that fitting on data ending at ``end`` reads (None: all of it).

        The earliest cut-off is ``weeks + 1`` weeks before ``end`` and its sources and tables look back
        ``history_weeks`` from there; an engine that holds the transactions elsewhere hands ``fit`` only these.
        """
        self._validate()
        if self.history_weeks is None:
            return None
        earliest = end - dt.timedelta(days=7 * (int(self.weeks) + 1))
        return earliest - dt.timedelta(days=int(7 * float(self.history_weeks)) - 1)

    def _context(self) -> SourceContext:
        keys = tuple(tuple(key["columns"]) for key in self._taste_keys())
        return SourceContext(seed=int(self.seed), threads=int(self.threads), taste_keys=keys,
                             model_params=self.source_params)

    def _build(self, data: Dataset, cutoff: dt.date) -> CutoffState:
        return CutoffState.build(
            data, cutoff, list(parse_sources(self.sources)), context=self._context(),
            active_weeks=float(self.active_weeks),
            history_weeks=None if self.history_weeks is None else float(self.history_weeks),
        )

    def _labelled_rows(
        self, data: Dataset, cutoff: dt.date, week: int, keep: np.ndarray, sample: bool, build: RowsOfBlocks
    ) -> Rows | None:
        """Features, labels and group sizes of the candidates at ``cutoff``, labelled by the next 7 days."""
        label_end = cutoff + dt.timedelta(days=7)
        truth = data.between(cutoff + dt.timedelta(days=1), label_end).interactions(binary=True)
        buyers = self._capped(np.flatnonzero(np.diff(truth.indptr)).astype(np.int32), week)
        if buyers.size == 0:
            return None
        state = self._build(data, cutoff)
        blocks = [buyers[lo : lo + BLOCK_CUSTOMERS] for lo in range(0, buyers.size, BLOCK_CUSTOMERS)]
        rows = [r for r in build(state, blocks, truth, week, keep, sample) if r is not None]
        if not rows:
            return None
        return np.vstack([r[0] for r in rows]), np.concatenate([r[1] for r in rows]), np.concatenate(
            [r[2] for r in rows]
        )

    def _capped(self, buyers: np.ndarray, week: int) -> np.ndarray:
        """``buyers`` (ascending), or ``max_buyers`` of them picked by a seeded hash of the customer index: the
        same customers whatever the engine or block size, other ones each week."""
        if self.max_buyers is None or buyers.size <= int(self.max_buyers):
            return buyers
        chosen = np.argsort(self._draw(buyers.astype(np.uint64), 7919 * week), kind="stable")
        return np.sort(buyers[chosen[: int(self.max_buyers)]])

    def _draw(self, keys: np.ndarray, stream: int) -> np.ndarray:
        """A seeded uint64 hash of each key, one independent stream per ``stream`` (e.g. per week): what a
        draw depends on is the key alone, not its block or position."""
        salt = splitmix64(np.array([int(self.seed) * 1_000_003 + stream], dtype=np.uint64))[0]
        return splitmix64(keys ^ salt)

    def _rows_of_blocks(
        self, state: CutoffState, blocks: list[np.ndarray], truth: sp.csr_matrix, week: int, keep: np.ndarray,
        sample: bool,
    ) -> list[Rows | None]:
        """:meth:`block_rows` of each block of buyers, in order, in this process: ``fit``'s default
        ``rows_of_blocks``."""
        return [self.block_rows(state, block, truth[block], week, keep, sample) for block in blocks]

    def block_rows(
        self, state: CutoffState, block: np.ndarray, truth: sp.csr_matrix, week: int, keep: np.ndarray,
        sample: bool,
    ) -> Rows | None:
        """The labelled rows of one block of buyers (sorted; ``truth``: their rows of the label week): the
        feature matrix, the labels and the group sizes, or None when no candidate was bought."""
        n_articles = truth.shape[1]
        xs, ys, gs = [], [], []
        active_counts, inactive_counts = self._counts()
        is_active = state.active[block]
        for counts, rows in ((active_counts, np.flatnonzero(is_active)), (inactive_counts, np.flatnonzero(~is_active))):
            if rows.size == 0:
                continue
            part = block[rows]
            cands = state.candidates(part, counts, n_articles)
            label = pair_hits(cands, truth[rows])
            positives = np.bincount(cands.row, weights=label, minlength=part.size)
            mask = positives[cands.row] > 0  # groups without a positive teach a ranker nothing
            if sample:
                n_pos = int(label[mask].sum())
                n_neg = int((mask & ~label).sum())
                rate = min(1.0, float(self.negatives) * n_pos / max(n_neg, 1))
                key = part[cands.row].astype(np.uint64) * np.uint64(n_articles) + cands.article.astype(np.uint64)
                draw = self._draw(key, week)
                uniform = (draw >> np.uint64(11)).astype(np.float64) / float(1 << 53)
                mask &= label | (uniform < rate)
            sub = subset_candidates(cands, mask)
            xs.append(state.features(part, sub)[:, keep])
            ys.append(label[mask].astype(np.int32))
            gs.append(np.bincount(sub.row, minlength=part.size)[np.unique(sub.row)])
        if not xs:
            return None
        return np.vstack(xs), np.concatenate(ys), np.concatenate(gs)

    def _learn_taste(self, train: Dataset, end: dt.date) -> None:
        """The taste keys (:func:`hmrec.ranking.taste.learn_keys`), scored on the validation week with the data
        the validation cut-off's sources see: ``taste_keys_`` (column lists, best first) and their recall."""
        cutoff = end - dt.timedelta(days=7)
        history = None if self.history_weeks is None else float(self.history_weeks)
        keys: list[TasteKey] = learn_keys(train, cutoff, first=history_start(cutoff, history), seed=int(self.seed))
        self.taste_keys_ = json.dumps(
            [{"columns": list(key.columns), "gain": key.gain, "recall": key.recall} for key in keys]
        )

    def _taste_keys(self) -> list[dict[str, Any]]:
        return list(json.loads(getattr(self, "taste_keys_", "[]")))

    def taste(self) -> pl.DataFrame:
        """The taste keys learned at fit time, the taste source's first: ``slot, key, gain, recall``
        (:func:`hmrec.ranking.taste.learn_keys`: nats per new purchase, and the recall of the new purchases of
        the validation week by a taste source on the key; NaN where not measured)."""
        self._check_fitted()
        keys = self._taste_keys()
        return pl.DataFrame(
            {"slot": list(range(len(keys))), "key": [" x ".join(k["columns"]) for k in keys],
             "gain": [float(k["gain"]) for k in keys], "recall": [float(k["recall"]) for k in keys]},
            schema={"slot": pl.Int64, "key": pl.String, "gain": pl.Float64, "recall": pl.Float64},
        )

    def fit(self, train: Dataset, *, rows_of_blocks: RowsOfBlocks | None = None) -> Self:
        """Fit on ``train``. ``rows_of_blocks`` builds each week's labelled rows from its blocks of buyers: by
        default :meth:`block_rows` on each block here; the Spark engine passes one that runs them on its
        executors (:mod:`hmrec.engines.spark.ranker`) and returns the same rows in the same order."""
        import lightgbm as lgb

        counts = self._validate()
        self._reset()
        end = train.end_date
        if end is None:
            raise ParameterError("ranker: the training data has no transactions (fix: check --data)")
        self.n_customers_ = train.n_customers
        self.n_articles_ = train.n_articles
        names, keep = self._columns(counts)
        self._learn_taste(train, end)
        sets: list[Rows] = []
        valid = None
        with progress_bar() as bar:
            task = bar.add_task("ranker: training weeks", total=int(self.weeks) + 2, info="")
            for w in range(int(self.weeks) + 1, 0, -1):
                cutoff = end - dt.timedelta(days=7 * w)
                rows = (
                    self._labelled_rows(train, cutoff, w, keep, w > 1, rows_of_blocks or self._rows_of_blocks)
                    if cutoff >= (train.start_date or end)
                    else None
                )
                if w == 1:
                    valid = rows
                elif rows is not None:
                    sets.append(rows)
                bar.update(task, info=f"cut-off {cutoff}")
                bar.advance(task)
            if not sets:
                raise ParameterError(
                    f"ranker: no training week with purchases before {end} (fix: more data or fewer "
                    "--param ranker.weeks)"
                )
            x = np.vstack([s[0] for s in sets])
            y = np.concatenate([s[1] for s in sets])
            groups = np.concatenate([s[2] for s in sets])
            boosters = []
            for objective in self._objectives():
                params = self._lgb_params(objective)
                dtrain = lgb.Dataset(x, y, group=groups, feature_name=names, free_raw_data=False, params=params)
                callbacks: list[Any] = []
                valid_sets = []
                if valid is not None:
                    dvalid = lgb.Dataset(valid[0], valid[1], group=valid[2], reference=dtrain, params=params)
                    valid_sets = [dvalid]
                    callbacks.append(lgb.early_stopping(30, verbose=False))
                bar.update(task, info=f"LightGBM ({objective}) on {y.size:,} rows")
                boosters.append(lgb.train(
                    params, dtrain, num_boost_round=int(self.trees), valid_sets=valid_sets, callbacks=callbacks
                ))
                del dtrain
            self.train_rows_ = int(y.size)
            del x, y
            bar.update(task, info=f"candidates at {end}")
            self._state = self._build(train, end)
            bar.advance(task)
        iterations = [int(b.best_iteration or b.current_iteration()) for b in boosters]
        self.best_iteration_ = iterations[0]
        # blended, each booster is cut to its own best iteration (one alone keeps its trees, as saved before)
        self._boosters = [lgb.Booster(model_str=b.model_to_string(num_iteration=i)) if len(boosters) > 1 else b
                          for b, i in zip(boosters, iterations, strict=True)]
        self._booster = self._boosters[0]
        self.blend_ = json.dumps(self._fit_blend(valid))
        self._names = names
        self._keep = keep
        self.cutoff_ = end.isoformat()
        self.feature_importance_ = np.sum([
            b.feature_importance("gain", iteration=i) for b, i in zip(boosters, iterations, strict=True)
        ], axis=0).astype(np.float64)
        return self

    def _fit_blend(self, valid: Rows | None) -> list[dict[str, float]]:
        """Per booster its weight and the mean and deviation its scores are standardized by (one booster:
        weight 1 on its raw score); fitted on the validation week's rows (:func:`~hmrec.ranking.boosters.fit_blend`)."""
        if len(self._boosters) == 1:
            return [{"weight": 1.0, "mean": 0.0, "scale": 1.0}]
        if valid is None:  # no validation week: equal weights on scores of unit scale
            return [{"weight": 1.0 / len(self._boosters), "mean": 0.0, "scale": 1.0} for _ in self._boosters]
        preds = [np.asarray(b.predict(valid[0], num_threads=int(self.threads)), dtype=np.float64)
                 for b in self._boosters]
        return fit_blend(preds, valid[1], valid[2])

    def _lgb_params(self, objective: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": objective,
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.leaves),
            "min_data_in_leaf": int(self.min_child_samples),
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "num_threads": int(self.threads),
            "deterministic": True,
            "force_row_wise": True,
            "seed": int(self.seed),
            "verbose": -1,
        }
        if objective == "lambdarank":
            params.update({"metric": "map", "eval_at": [12], "lambdarank_truncation_level": 20})
        elif len(self._objectives()) > 1:
            # blended, every booster stops where the validation week's ranking is best, as the blend is judged
            params.update({"metric": "map", "eval_at": [12]})
        else:
            params.update({"metric": "binary_logloss"})
        return params

    def _iterations(self) -> list[int]:
        """The trees each booster scores with: one alone its best iteration, blended ones all they keep."""
        if len(self._boosters) == 1:
            return [self.best_iteration_]
        return [int(b.current_iteration()) for b in self._boosters]

    def _predict(self, x: np.ndarray) -> np.ndarray:
        """The blend of the boosters' scores (one booster: its own score)."""
        if len(self._boosters) == 1:
            return np.asarray(
                self._booster.predict(x, num_iteration=self.best_iteration_, num_threads=int(self.threads)),
                dtype=np.float32,
            )
        return blend_predict(self._boosters, json.loads(self.blend_), x, int(self.threads))

    # ------------------------------------------------------------------ scoring
    def _check_ready(self) -> None:
        self._check_fitted()
        if getattr(self, "_booster", None) is None:
            raise ParameterError("ranker: the model has no booster (fix: fit it, or load it with its booster.txt)")

    def _score_block(self, customers: np.ndarray) -> tuple[Candidates, np.ndarray, np.ndarray]:
        """Candidates of ``customers`` (one block), their feature matrix and the booster's scores."""
        state = self._state
        active_counts, inactive_counts = self._counts()
        active = state.active[customers]
        parts = []
        for counts, pos in ((active_counts, np.flatnonzero(active)), (inactive_counts, np.flatnonzero(~active))):
            if pos.size:
                cands = state.candidates(customers[pos], counts, self.n_articles_)
                cands.row = pos[cands.row].astype(np.int32)
                parts.append(cands)
        cands = concat_candidates(parts, list(parse_sources(self.sources)))
        x = state.features(customers, cands)[:, self._keep]
        return cands, x, self._predict(x)

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` best of each customer's candidates by the booster's score (padded -1 / -inf when the
        sources proposed fewer)."""
        self._check_ready()
        n = check_k(n)
        customers = check_customers(customers, self.n_customers_, self.name)
        cold = self._cold(customers)
        if not cold.any():
            return self._rank(customers, n)
        ids = np.full((customers.size, n), -1, dtype=np.int32)
        scores = np.full((customers.size, n), -np.inf, dtype=np.float32)
        warm = np.flatnonzero(~cold)
        ids[warm], scores[warm] = self._rank(customers[warm], n)
        # a customer without a purchase in the history window has features and candidates that depend on
        # their age alone: one representative per age is ranked for all of them (exact, and about half of
        # the customers of a two-year history)
        ages = self._state.tables.customer[customers[cold], CUSTOMER_FEATURES.index("c_age")]
        _, first, inverse = np.unique(ages, return_index=True, return_inverse=True)
        rep_ids, rep_scores = self._rank(customers[cold][first], n)
        ids[cold], scores[cold] = rep_ids[inverse.ravel()], rep_scores[inverse.ravel()]
        return ids, scores

    def _cold(self, customers: np.ndarray) -> np.ndarray:
        """Bool per customer: no purchase in the window the sources and features see, so that only their
        age tells them apart (not with the ``cluster`` source, whose clusters use other customer columns)."""
        if not all(SOURCES[name].cold_by_age for name in parse_sources(self.sources)):
            return np.zeros(customers.size, dtype=bool)
        tables = self._state.tables
        return tables.customer[customers, CUSTOMER_FEATURES.index("c_rows")] == 0

    def _rank(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The top ``n`` of every customer's candidates, block by block."""
        size = customers.size
        ids = np.full((size, n), -1, dtype=np.int32)
        scores = np.full((size, n), -np.inf, dtype=np.float32)
        with progress_bar() as bar:
            task = bar.add_task("ranker: scoring", total=size, info="")
            for lo in range(0, size, BLOCK_CUSTOMERS):
                block = customers[lo : lo + BLOCK_CUSTOMERS]
                cands, _, pred = self._score_block(block)
                ids[lo : lo + block.size], scores[lo : lo + block.size] = top_k_rows(cands, pred, block.size, n)
                bar.advance(task, block.size)
        return ids, scores

    def score(self, customers: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """The booster's score of each aligned pair; -inf where the article is not one of the customer's
        candidates (stage 2 only ranks what stage 1 proposed)."""
        self._check_ready()
        cust, arts = check_pairs(customers, articles, self.n_customers_, self.n_articles_, self.name)
        out = np.full(cust.size, -np.inf, dtype=np.float32)
        unique, row_of = np.unique(cust, return_inverse=True)
        for lo in range(0, unique.size, BLOCK_CUSTOMERS):
            block = unique[lo : lo + BLOCK_CUSTOMERS]
            cands, _, pred = self._score_block(block)
            keys = cands.row.astype(np.int64) * self.n_articles_ + cands.article  # sorted by (row, article)
            mine = (row_of >= lo) & (row_of < lo + block.size)
            query = (row_of[mine] - lo).astype(np.int64) * self.n_articles_ + arts[mine]
            out[mine] = sorted_lookup(keys, pred, query, -np.inf)
        return out

    # ------------------------------------------------------------------ explanations
    def explain(self, customer: int, k: int = DEFAULT_K, top: int = 3) -> pl.DataFrame:
        """The top ``k`` for one customer with why: the sources that proposed each article and the ``top``
        features with the largest contribution (LightGBM's ``pred_contrib``, SHAP values) to its score.

        Columns: ``rank, article_idx, score, sources, reasons`` (``name=value (+contribution)``, largest first).
        """
        self._check_ready()
        k = check_k(k)
        customers = check_customers(np.array([customer]), self.n_customers_, self.name)
        cands, x, pred = self._score_block(customers)
        order = np.lexsort((cands.article, -pred))[:k]
        # the blend is linear in each booster's score, so its contributions are theirs, weighted alike
        parts = zip(self._boosters, self._iterations(), json.loads(self.blend_), strict=True)
        contrib = np.sum([
            part["weight"] / part["scale"] * np.asarray(booster.predict(
                x[order], num_iteration=iteration, pred_contrib=True, num_threads=int(self.threads)
            ))[:, :-1]
            for booster, iteration, part in parts
        ], axis=0)
        rows = []
        for rank, (i, c) in enumerate(zip(order, contrib, strict=True), start=1):  # k rows of one customer
            proposed = [cands.sources[s] for s in np.flatnonzero(cands.proposed[i])]
            best = np.argsort(-np.abs(c), kind="stable")[:top]
            reasons = "; ".join(f"{self._names[f]}={x[i, f]:.4g} ({c[f]:+.3f})" for f in best)
            rows.append({
                "rank": rank, "article_idx": int(cands.article[i]), "score": float(pred[i]),
                "sources": ",".join(proposed), "reasons": reasons,
            })
        return pl.DataFrame(rows, schema={"rank": pl.Int64, "article_idx": pl.Int32, "score": pl.Float64,
                                          "sources": pl.String, "reasons": pl.String})

    def importance(self) -> pl.DataFrame:
        """Total gain of each feature over the trees used, largest first (``feature, family, gain, share``)."""
        self._check_fitted()
        names = getattr(self, "_names", None) or self._columns(parse_sources(self.sources))[0]
        gain = self.feature_importance_
        total = float(gain.sum()) or 1.0
        frame = pl.DataFrame({
            "feature": names, "family": [family_of(n) for n in names], "gain": gain, "share": gain / total,
        })
        return frame.sort(["gain", "feature"], descending=[True, False])

    def candidate_recall(
        self, customers: np.ndarray, truth: sp.csr_matrix, ns: tuple[int, ...] = (12, 24, 50, 100, 200, 300)
    ) -> pl.DataFrame:
        """Recall of each source and of their union at the final cut-off (:func:`source_recall`)."""
        from hmrec.ranking.candidates import source_recall

        self._check_ready()
        return source_recall(self._state.sources, customers, truth, ns, self.n_articles_)

    def diagnostics(self, customers: np.ndarray, truth: sp.csr_matrix) -> dict[str, pl.DataFrame]:
        """What the evaluation reports about the ranker on a test week: ``candidate_recall`` (each source's
        and the union's recall of the week's purchases of ``customers``, whose rows ``truth`` holds, at
        n = 12..300) and ``feature_importance``."""
        return {"candidate_recall": self.candidate_recall(customers, truth), "feature_importance": self.importance(),
                "taste_keys": self.taste()}

    # ------------------------------------------------------------------ persistence
    def _reset(self) -> None:
        for name in ("_booster", "_boosters", "_state", "_names", "_keep"):
            self.__dict__.pop(name, None)
        super()._reset()

    def save(self, directory: Path, **meta: Any) -> None:
        """``model.json`` (parameters, scalars), ``arrays.npz`` (sources, tables) and ``booster.txt``."""
        self._check_ready()
        arrays: dict[str, np.ndarray] = {"feature_importance_": self.feature_importance_,
                                         "active": self._state.active, "keep": self._keep}
        # names without "__", which saved models use for the parts of a composite
        for name, source in self._state.sources.items():
            for key, value in source.state().items():
                arrays[f"src.{name}.{key}"] = np.asarray(value)
        for key, value in self._state.tables.state().items():
            arrays[f"tab.{key}"] = value
        directory.mkdir(parents=True, exist_ok=True)
        for file, booster, iteration in zip(self.booster_files(), self._boosters, self._iterations(), strict=True):
            write_atomic(directory / file, booster.model_to_string(num_iteration=iteration))
        scalars = {k: getattr(self, k) for k in ("n_customers_", "n_articles_", "cutoff_", "best_iteration_",
                                                   "train_rows_", "taste_keys_", "blend_")}
        # the array list that loading checks the npz against is this model's own, not its attributes'
        listed = {k: {"dtype": v.dtype.str, "shape": list(v.shape)} for k, v in arrays.items()}
        write_saved(directory, arrays, {"model": self.name, "params": self.get_params(), "attributes": scalars,
                                        "features": self._names, **meta, "arrays": listed})

    @classmethod
    def load_state(cls, directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        payload, arrays = super().load_state(directory)
        # which booster files there are follows from the saved parameters (one per objective)
        return payload, {**arrays, **cls(**payload.get("params", {})).read_files(directory)}

    @property
    def own_files(self) -> tuple[str, ...]:
        """The files saved beside the arrays (one booster per objective), checksummed in model.json before
        anything reads them."""
        return self.booster_files()

    def check_state(
        self, payload: Mapping[str, Any], arrays: Mapping[str, np.ndarray], n_customers: int, n_articles: int,
        fail: Callable[[str], Exception],
    ) -> None:
        """The saved arrays against their bounds before scoring indexes with them (:func:`check_saved`)."""
        check_saved(payload, arrays, n_customers, n_articles, fail,
                    expected=self._columns(parse_sources(self.sources))[1], sources=self.sources,
                    source_params=self.source_params)

    def read_files(self, directory: Path) -> dict[str, Any]:
        """The files saved beside the arrays: each booster's text (``booster.txt``, ``booster-binary.txt``)."""
        out = {}
        for file in self.booster_files():
            path = Path(directory) / file
            if not path.is_file():
                raise DataError(f"{file} is missing", file=Path(directory), fix="train the model again")
            try:
                out[file] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{file} is not UTF-8 text", file=path, fix="train the model again") from None
        return out

    def restore(self, payload: dict[str, Any], arrays: dict[str, Any]) -> Self:
        self._reset()
        saved, expected = list(payload.get("features", [])), self._columns(parse_sources(self.sources))[0]
        if saved != expected:
            # a booster of another hmrec's features would read this one's columns in the wrong places
            raise ParameterError(
                f"ranker: the saved model was trained on other features than this hmrec computes ({len(saved)} "
                f"saved, {len(expected)} now) (fix: train the model again)"
            )
        for key, value in payload.get("attributes", {}).items():
            setattr(self, key, value)
        self.feature_importance_ = arrays["feature_importance_"]
        self._keep = arrays["keep"]
        self._names = list(payload.get("features", []))
        self._boosters = []
        for file in self.booster_files():
            booster = read_booster(arrays[file], file, len(self._names))
            self._boosters.append(booster)
        self._booster = self._boosters[0]
        sources: dict[str, Source] = {}
        for name in parse_sources(self.sources):
            prefix = f"src.{name}."
            state = {
                key[len(prefix):]: (value.item() if value.ndim == 0 else value)
                for key, value in arrays.items()
                if key.startswith(prefix)
            }
            sources[name] = make_source(name, self._context()).set_state(state)
        tables = FeatureTables.from_state({k[4:]: v for k, v in arrays.items() if k.startswith("tab.")})
        self._state = CutoffState(dt.date.fromisoformat(self.cutoff_), sources, tables, arrays["active"])
        return self
