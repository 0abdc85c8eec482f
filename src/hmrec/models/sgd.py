"""Matrix factorization learned by stochastic gradient descent (``sgd-bpr``, ``sgd-mse``, ``sgd-warp``,
``sgd+repurchase``).

Customer factors ``xᵤ`` and article factors ``yᵢ`` score ``xᵤ·yᵢ``, over the same candidates and with the same
cold-customer fallback as ``als`` (:class:`hmrec.models.scoring.FactorRecommender`), its half-life learned
from the last week of train by default. The purchase weights are
ALS's too: ``w`` time-decayed (a 7-day half-life), confidence ``c = 1 + alpha * w``. Each epoch draws about
``nnz`` samples: a purchase ``(u, i)`` with probability ∝ ``c`` (so last week's purchases are drawn far more
often than last year's) and ``neg_samples`` articles ``j`` among the articles sold in train, with probability
∝ ``sales ** neg_popularity`` (a ``j`` the customer bought is skipped). Three losses:

* **BPR** (Rendle et al. 2009): a bought article should score above a sampled one,
  ``Σ −log σ(xᵤ·yᵢ − xᵤ·yⱼ) + reg (‖xᵤ‖² + ‖yᵢ‖² + ‖yⱼ‖²)`` per sample.
* **squared loss with sampled negatives**: ``(1 − xᵤ·yᵢ)² + Σⱼ (xᵤ·yⱼ)²``; with the positives drawn ∝ ``c``
  this is the ALS objective in expectation, the zeros estimated by sampling instead of ``YᵀY``.
* **WARP** (Weston et al. 2011; LightFM's): negatives are drawn until one scores within a margin of the bought
  article, and the step is weighted by the bought article's rank estimated from the number of draws.

The step size of epoch ``e`` (0-based) is ``learning_rate / (1 + lr_decay * e)``. The schedule is stratified
(DSGD, Gemulla et al. 2011, see ``_sgd_kernels``): customers and articles are cut into ``blocks`` blocks
each, the blocks of a stratum share no customer and no article and run in parallel, and the samples come
from a counter-based hash of ``(seed, epoch, block, sample number)``. So the same seed gives the same factors,
bit for bit, on any number of threads and in every process (and in the numpy reference of the tests).
``hogwild=True`` runs all the blocks of an epoch at once (Hogwild, Recht et al. 2011): no waiting between
strata, but concurrent writes to shared rows make the result depend on thread timing.

Early stopping (``validation_days``): the last ``validation_days`` days of train are held out, the model is
trained on the rest and MAP@12 on the held-out purchases is measured after every epoch; training stops when
it has not improved for ``patience`` epochs. The model is then refit on all of train for the best number of
epochs (so the final model has seen the most recent days, which matter most in fashion).
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.metrics import map_at_k
from hmrec.models import _sgd_kernels
from hmrec.models._params import (
    MAX_ALPHA,
    MAX_FACTORS,
    MAX_LEARNING_RATE,
    MAX_REG,
    check_bool,
    check_int,
    check_nonnegative,
    check_positive,
)
from hmrec.models._sgd_kernels import LOSS_BPR, LOSS_MSE, LOSS_WARP
from hmrec.models.base import DEFAULT_K, register
from hmrec.models.compose import register_fill
from hmrec.models.popularity import splitmix64
from hmrec.models.scoring import (
    DEFAULT_RECENT_WEEKS,
    FactorRecommender,
    numba_threads,
    resolve_threads,
)
from hmrec.progress import progress_bar

#: standard deviation of the initial factors (normal), divided by sqrt(factors) so that scores start ~0.1²
INIT_STD = 0.1
#: odd stride between the blocks' sample streams (the golden ratio in 64 bits)
BLOCK_STRIDE = np.uint64(0x9E3779B97F4A7C15)
#: customers whose held-out purchases are scored for early stopping (a fixed random subset)
VALIDATION_CUSTOMERS = 20_000
# Defaults of the stratified sampler, chosen on the backtest week ending 2020-09-15 of the small synthetic data
# (seed 0; popularity 0.0226, als 0.0225 there; the final week was only scored once the defaults were fixed).
# MAP@12 after 10 / 20 epochs, 2 threads, lr 0.1, 7-day half-life unless said:
#   sgd-bpr  the old sampler (positives uniform, no decay, negatives uniform): 0.0093 / 0.0101 (40: 0.0107)
#            positives ∝ 1 + alpha·w, alpha 100, negatives ∝ sales^0 / ^0.5 / ^1: 0.0184 / 0.0189,
#            0.0182 / 0.0183 and 0.0164 / 0.0165 (40 epochs: 0.0193 / 0.0190 / 0.0168)
#            alpha 1000 / 10000: 0.0199 / 0.0208 and 0.0208 / 0.0214;  alpha 1000 with a 14-day half-life:
#            0.0208 / 0.0210, alpha 100 with 21 days: 0.0208 / 0.0201;  lr 0.05 at alpha 1000: 0.0207 / 0.0206,
#            lr 0.3 at alpha 100: 0.0150 / 0.0155;  3 negatives: 0.0204 / 0.0212;  negatives ∝ sales^0.5 at
#            alpha 1000: 0.0203 / 0.0204. Then blocks balanced by confidence: 20 epochs 0.0219; with the
#            article bias 0.0221 (the default)
#   sgd-mse  alpha 10 / 1000 at lr 0.01: 0.0080 / 0.0108 and 0.0196 / 0.0211; alpha 1000 at lr 0.05: 0.0210 /
#            0.0215 (the old weighted steps diverged at alpha 100: drawing by confidence keeps the steps bounded)
#   sgd-warp alpha 1000, lr 0.02, 20 draws: 0.0161 / 0.0162 (final week), and 5x slower than BPR
# Drawing negatives by popularity, which teaches the model to rank beyond the popular articles, costs MAP here:
# the week's popular articles are what this data rewards (docs/calibration.md), so negatives stay uniform.
#: purchase weights: halved every week back from the end of train, as ALS's
DEFAULT_HALF_LIFE: float | None = 7.0
#: confidence slope: a purchase is drawn as a positive with probability ∝ ``1 + alpha * w``. Decayed weights are
#: small (a purchase 8 weeks old weighs 1/256), so it takes a large alpha for the recent ones to dominate
DEFAULT_ALPHA = 1000.0
#: negatives drawn ∝ ``sales ** neg_popularity`` (0: uniformly among the articles sold)
DEFAULT_NEG_POPULARITY = 0.0
#: the cold customers' popularity: its half-life learned from train. On MovieLens 100K recast as H&M files
#: (benchmarks/sgd_vs_implicit_bpr.py), where most test users are new, a fixed 3-day half-life held sgd-bpr
#: below implicit's BPR; the films' popularity fades over months there, fashion's within days
DEFAULT_FALLBACK_HALF_LIFE: float | None = None
#: row and column blocks of the stratified schedule: up to this many threads are kept busy
DEFAULT_BLOCKS = 8
MAX_BLOCKS = 256
#: an article bias beside the factors. sgd-bpr, 20 epochs: 0.0219 -> 0.0221 on the tuning week; on MovieLens
#: 100K (benchmarks/sgd_vs_implicit_bpr.py) 0.1516 -> 0.1576
DEFAULT_ITEM_BIAS = True
MAX_NEG_POPULARITY = 4.0
#: step size of the first epoch (BPR; its gradient is bounded, so a large step stays stable)
DEFAULT_LEARNING_RATE = 0.1
#: passes over the data (BPR): 20 (10 epochs are 4% worse on the tuning week, 40 add 1% for twice the time)
DEFAULT_EPOCHS = 20
#: step size and epochs of the squared loss
DEFAULT_MSE_LEARNING_RATE = 0.05
DEFAULT_MSE_EPOCHS = 20
#: sampled negatives per purchase of the squared loss (its negatives stand in for all the zeros of ALS)
DEFAULT_MSE_NEG_SAMPLES = 8
#: WARP's most negatives drawn per purchase while looking for one that violates the margin, and its step
DEFAULT_WARP_NEG_SAMPLES = 20
DEFAULT_WARP_LEARNING_RATE = 0.02

def balanced_blocks(load: np.ndarray, n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    """Block of each row (``0..n_blocks-1``): rows in a seeded random order, cut where the running sum of
    ``load`` crosses a multiple of ``total / n_blocks``, so that the blocks get about the same load."""
    order = rng.permutation(load.size)
    before = np.cumsum(load[order], dtype=np.float64) - load[order]
    block = np.empty(load.size, dtype=np.int64)
    block[order] = np.minimum(np.floor(before * n_blocks / max(float(load.sum()), 1e-300)), n_blocks - 1)
    return block


class SGDTrainer:
    """Epochs of stratified SGD on one weight matrix (independent of Dataset, reused by the early stopping).

    Args:
        weights: customers x articles purchase weights ``w`` (counts or time-decayed).
        loss_kind: ``LOSS_BPR``, ``LOSS_MSE`` or ``LOSS_WARP``.
        alpha: confidence ``c = 1 + alpha * w``: a purchase is drawn as a positive with probability ∝ ``c``
            (recent purchases more often), whatever the loss.
        neg_popularity: negatives drawn with probability ``sales ** neg_popularity`` (0: uniformly among the
            articles sold), ``sales`` the column sums of ``weights``.
        blocks: ``B``, the customers and the articles are each cut into ``B`` blocks (see ``_sgd_kernels``).
        bias: learn an article bias as an extra factor column (the customers' column is held at 1).
        hogwild: run all ``B²`` blocks of an epoch at once instead of stratum by stratum: not reproducible.
    """

    def __init__(
        self,
        weights: sp.csr_matrix,
        *,
        loss_kind: int,
        factors: int,
        alpha: float,
        reg: float,
        neg_samples: int,
        neg_popularity: float,
        blocks: int,
        threads: int,
        seed: int,
        bias: bool = False,
        hogwild: bool = False,
    ) -> None:
        _sgd_kernels.compile_kernels()
        self.loss_kind = loss_kind
        conf = weights.astype(np.float32)
        conf.sort_indices()
        sales = np.asarray(conf.sum(axis=0, dtype=np.float64)).ravel()
        conf.data = (1.0 + alpha * conf.data.astype(np.float64)).astype(np.float32)
        self.conf = conf
        self.rows = np.repeat(np.arange(conf.shape[0], dtype=np.int32), np.diff(conf.indptr))
        self.reg = np.float32(reg)
        self.neg_samples = int(neg_samples)
        self.n_blocks = int(blocks)
        self.threads = threads
        self.hogwild = hogwild
        self.seed = int(seed)
        rng = np.random.default_rng(seed)
        scale = np.float32(INIT_STD / np.sqrt(factors))
        self.x = rng.standard_normal((conf.shape[0], factors), dtype=np.float32) * scale
        self.y = rng.standard_normal((conf.shape[1], factors), dtype=np.float32) * scale
        self.bias = bool(bias)
        if self.bias:  # a last column of ones (customers) and of article biases, from 0
            self.x = np.hstack([self.x, np.ones((conf.shape[0], 1), dtype=np.float32)])
            self.y = np.hstack([self.y, np.zeros((conf.shape[1], 1), dtype=np.float32)])
        b = self.n_blocks
        # the samples of a block are drawn by confidence, so the blocks are balanced by confidence
        load = conf.data.astype(np.float64)
        row_block = balanced_blocks(np.bincount(self.rows, weights=load, minlength=conf.shape[0]), b, rng)
        col_block = balanced_blocks(np.bincount(conf.indices, weights=load, minlength=conf.shape[1]), b, rng)
        # purchases grouped by block, each drawn with probability ∝ its confidence
        block_of = row_block[self.rows] * b + col_block[conf.indices]
        self.entries = np.argsort(block_of, kind="stable").astype(np.int64)
        self.block_ptr = np.searchsorted(block_of[self.entries], np.arange(b * b + 1)).astype(np.int64)
        draw = conf.data.astype(np.float64)[self.entries]
        self.entry_cum = np.concatenate([[0.0], np.cumsum(draw)])
        # an epoch draws nnz positives, shared among the blocks by their weight
        block_weight = np.diff(self.entry_cum[self.block_ptr])
        self.n_samples = np.rint(conf.nnz * block_weight / max(self.entry_cum[-1], 1e-300)).astype(np.int64)
        # negatives: the articles sold, grouped by column block, each with its popularity weight
        sold = np.flatnonzero(sales > 0)
        self.pool = sold[np.argsort(col_block[sold], kind="stable")].astype(np.int32)
        self.pool_ptr = np.searchsorted(col_block[self.pool], np.arange(b + 1)).astype(np.int64)
        self.pool_cum = np.concatenate([[0.0], np.cumsum(sales[self.pool] ** float(neg_popularity))])

    def epoch_key(self, epoch: int) -> np.uint64:
        """Key of an epoch's sample streams: block ``b`` draws from ``splitmix64(key + b·φ) + t``."""
        return np.uint64(splitmix64(np.array([self.seed * 1_000_003 + epoch], dtype=np.uint64))[0])

    def block_keys(self, epoch: int) -> np.ndarray:
        """Each block's key for ``epoch`` (the block's sample ``t`` hashes ``key + t``)."""
        return splitmix64(self.epoch_key(epoch) + np.arange(self.n_blocks**2, dtype=np.uint64) * BLOCK_STRIDE)

    def strata(self, epoch: int) -> list[np.ndarray]:
        """Block ids of each stratum of ``epoch``, strata in a seeded order (one list of all blocks in
        Hogwild mode)."""
        b = self.n_blocks
        order = np.random.default_rng([self.seed, epoch]).permutation(b)
        r = np.arange(b, dtype=np.int64)
        strata = [r * b + (r + s) % b for s in order]
        return [np.concatenate(strata)] if self.hogwild else strata

    def epoch(self, epoch: int, lr: float) -> float:
        """One epoch of about ``nnz`` samples; returns the mean per-sample loss (measured before each step)."""
        n = int(self.n_samples.sum())
        if n == 0 or self.pool.size == 0:
            return 0.0
        keys = self.block_keys(epoch)
        c = self.conf
        total = 0.0
        with numba_threads(self.threads):
            for blocks in self.strata(epoch):
                losses = _sgd_kernels.sgd_blocks(
                    blocks, keys, self.n_samples, self.block_ptr, self.pool_ptr, self.n_blocks, self.loss_kind,
                    self.entries, self.entry_cum, self.pool, self.pool_cum, self.rows, c.indptr, c.indices,
                    self.x, self.y, np.float32(lr), self.reg, self.neg_samples, c.shape[1], self.bias,
                )
                total += float(losses.sum())
        return total / n


class SGDModel(FactorRecommender):
    """Matrix factorization by SGD (see the module docstring); subclasses fix the loss.

    Args:
        factors: latent dimensions.
        epochs: passes over the data (each draws ``nnz`` samples); the maximum with early stopping.
        learning_rate: step size of the first epoch.
        lr_decay: the step size of epoch ``e`` is ``learning_rate / (1 + lr_decay * e)``.
        reg: L2 regularization, applied to the factors a step touches.
        neg_samples: sampled negative articles per positive (WARP: the most it draws).
        neg_popularity: negatives are drawn ∝ ``sales ** neg_popularity`` (0: uniformly).
        alpha: confidence slope ``c = 1 + alpha * w``: a purchase is drawn as a positive ∝ ``c``.
        half_life_days: time decay of the purchase weights ``w`` (None: counts).
        seed: seeds the initial factors, the blocks and the samples.
        threads: numba threads of the fit and of scoring (0: all); the factors do not depend on it.
        blocks: the stratified schedule cuts customers and articles into this many blocks each; at most this
            many threads work at once.
        item_bias: learn an article bias beside the factors (one more column in each factor matrix, the
            customers' held at 1: scores are ``xᵤ·yᵢ + bᵢ``), as implicit's BPR does.
        hogwild: run all blocks of an epoch at once (Hogwild): NOT reproducible (thread timing). Off: stratum
            after stratum, the same factors for the same seed on any number of threads.
        validation_days: hold out the last days of train for early stopping (None: no early stopping).
        patience: epochs without improvement of the held-out MAP@12 before stopping.
        recent_weeks, filter_bought: scoring, as for ``als``.
        fallback_half_life_days: decay of the popularity given to customers without history; None (the
            default) learns it from the last week of train (:func:`hmrec.models.scoring.learned_half_life`).
    """

    loss_kind: ClassVar[int]

    loss_history_: np.ndarray
    validation_history_: np.ndarray
    epochs_: int

    def __init__(
        self,
        factors: int = 64,
        epochs: int = DEFAULT_EPOCHS,
        learning_rate: float = DEFAULT_LEARNING_RATE,
        lr_decay: float = 0.1,
        reg: float = 0.002,
        neg_samples: int = 1,
        neg_popularity: float = DEFAULT_NEG_POPULARITY,
        alpha: float = DEFAULT_ALPHA,
        half_life_days: float | None = DEFAULT_HALF_LIFE,
        seed: int = 0,
        threads: int = 0,
        blocks: int = DEFAULT_BLOCKS,
        item_bias: bool = DEFAULT_ITEM_BIAS,
        hogwild: bool = False,
        validation_days: int | None = None,
        patience: int = 2,
        recent_weeks: float | None = DEFAULT_RECENT_WEEKS,
        filter_bought: bool = False,
        fallback_half_life_days: float | None = DEFAULT_FALLBACK_HALF_LIFE,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.lr_decay = lr_decay
        self.reg = reg
        self.neg_samples = neg_samples
        self.neg_popularity = neg_popularity
        self.alpha = alpha
        self.half_life_days = half_life_days
        self.seed = seed
        self.threads = threads
        self.blocks = blocks
        self.item_bias = item_bias
        self.hogwild = hogwild
        self.validation_days = validation_days
        self.patience = patience
        self.recent_weeks = recent_weeks
        self.filter_bought = filter_bought
        self.fallback_half_life_days = fallback_half_life_days

    # ------------------------------------------------------------------ validation
    def _validate(self) -> int:
        check_int("factors", self.factors, model=self.name, high=MAX_FACTORS)
        check_int("epochs", self.epochs, model=self.name)
        check_int("neg_samples", self.neg_samples, model=self.name)
        check_int("seed", self.seed, model=self.name, low=0)
        check_int("patience", self.patience, model=self.name)
        check_int("blocks", self.blocks, model=self.name, high=MAX_BLOCKS)
        check_positive("learning_rate", self.learning_rate, model=self.name, high=MAX_LEARNING_RATE)
        check_positive("alpha", self.alpha, model=self.name, high=MAX_ALPHA)
        check_positive("half_life_days", self.half_life_days, model=self.name, allow_none=True)
        if self.validation_days is not None:
            check_int("validation_days", self.validation_days, model=self.name)
        check_nonnegative("lr_decay", self.lr_decay, model=self.name, high=MAX_REG)
        check_nonnegative("reg", self.reg, model=self.name, high=MAX_REG)
        check_nonnegative("neg_popularity", self.neg_popularity, model=self.name, high=MAX_NEG_POPULARITY)
        check_bool("hogwild", self.hogwild, model=self.name)
        check_bool("item_bias", self.item_bias, model=self.name)
        self._check_scoring_params()
        return resolve_threads(self.threads, self.name)

    def _trainer(self, weights: sp.csr_matrix, threads: int) -> SGDTrainer:
        return SGDTrainer(
            weights, loss_kind=self.loss_kind, factors=self.factors, alpha=float(self.alpha),
            reg=float(self.reg), neg_samples=self.neg_samples, neg_popularity=float(self.neg_popularity),
            blocks=self.blocks, threads=threads, seed=self.seed, bias=self.item_bias, hogwild=self.hogwild,
        )

    def _lr(self, epoch: int) -> float:
        return float(self.learning_rate) / (1.0 + float(self.lr_decay) * epoch)

    def _check_finite(self, loss: float, epoch: int) -> None:
        """A step size too large for the data makes SGD diverge to inf/NaN: stop and say so."""
        if not np.isfinite(loss):
            raise ParameterError(
                f"{self.name}: training diverged in epoch {epoch + 1} (loss {loss}) with learning_rate="
                f"{self.learning_rate} (fix: lower learning_rate, e.g. to {float(self.learning_rate) / 4:g})"
            )

    # ------------------------------------------------------------------ fitting
    def fit(self, train: Dataset) -> Self:
        """Learn the factors from ``train`` (a refit starts from new random factors)."""
        threads = self._validate()
        self._reset()
        self._check_factor_memory(train)
        epochs = self.epochs
        validation: list[float] = []
        if self.validation_days is not None:
            epochs, validation = self._early_stopping(train, threads)
        weights = train.interactions(half_life_days=self.half_life_days)
        trainer = self._trainer(weights, threads)
        losses: list[float] = []
        with progress_bar() as bar:
            task = bar.add_task(f"{self.name}: SGD epochs", total=epochs, info="")
            for epoch in range(epochs):
                losses.append(trainer.epoch(epoch, self._lr(epoch)))
                self._check_finite(losses[-1], epoch)
                bar.update(task, advance=1, info=f"loss {losses[-1]:.5g}")
        self.user_factors_ = trainer.x
        self.item_factors_ = trainer.y
        self.loss_history_ = np.asarray(losses, dtype=np.float64)
        self.validation_history_ = np.asarray(validation, dtype=np.float64)
        self.epochs_ = epochs
        self._fit_scoring(train, weights)
        return self

    def _early_stopping(self, train: Dataset, threads: int) -> tuple[int, list[float]]:
        """Best epoch count by MAP@12 on the last ``validation_days`` days held out, and MAP per epoch."""
        end = train.end_date
        if end is None:
            return self.epochs, []
        cut = end - dt.timedelta(days=int(self.validation_days or 0))
        inner, held_out = train.between(None, cut), train.between(cut + dt.timedelta(days=1), end)
        if inner.n_transactions == 0 or held_out.n_transactions == 0:
            span = (end - train.start_date).days + 1 if train.start_date else 0
            raise ParameterError(
                f"{self.name}: validation_days={self.validation_days} leaves no training or validation "
                f"purchases (fix: choose fewer days than the {span} days of train, or null)"
            )
        truth = held_out.interactions(binary=True)
        buyers = np.flatnonzero(np.diff(truth.indptr) > 0)
        rng = np.random.default_rng(self.seed)
        if buyers.size > VALIDATION_CUSTOMERS:
            buyers = np.sort(rng.choice(buyers, VALIDATION_CUSTOMERS, replace=False))
        truth_rows = truth[buyers]
        weights = inner.interactions(half_life_days=self.half_life_days)
        trainer = self._trainer(weights, threads)
        self._fit_scoring(inner, weights)
        scores: list[float] = []
        best, best_epoch, waited = -np.inf, 0, 0
        with progress_bar() as bar:
            task = bar.add_task(f"{self.name}: early stopping", total=self.epochs, info="")
            for epoch in range(self.epochs):
                self._check_finite(trainer.epoch(epoch, self._lr(epoch)), epoch)
                self.user_factors_, self.item_factors_ = trainer.x, trainer.y
                ids, _ = self._factor_top_k(buyers, DEFAULT_K)
                scores.append(map_at_k(ids, truth_rows, DEFAULT_K))
                bar.update(task, advance=1, info=f"MAP@12 {scores[-1]:.5f}")
                if scores[-1] > best:
                    best, best_epoch, waited = scores[-1], epoch + 1, 0
                else:
                    waited += 1
                    if waited >= self.patience:
                        break
        self._reset()  # the final fit starts from scratch on all of train
        return max(1, best_epoch), scores


@register("sgd-bpr", "Matrix factorization by SGD on the BPR pairwise loss (bought above a sampled article).")
class SGDBPR(SGDModel):
    """:class:`SGDModel` with the BPR loss."""

    loss_kind = LOSS_BPR


@register("sgd-mse", "Matrix factorization by SGD on a weighted squared loss with sampled negatives.")
class SGDMSE(SGDModel):
    """:class:`SGDModel` with the squared loss; 8 sampled negatives per purchase and a step of 0.05 by
    default (its gradient grows with the score, BPR's is bounded by 1); the grid is in the comments above
    ``DEFAULT_HALF_LIFE``."""

    loss_kind = LOSS_MSE
    #: the defaults that differ from :class:`SGDModel`'s (BPR's); every other parameter is SGDModel's own
    defaults: ClassVar[dict[str, Any]] = {
        "epochs": DEFAULT_MSE_EPOCHS,
        "learning_rate": DEFAULT_MSE_LEARNING_RATE,
        "neg_samples": DEFAULT_MSE_NEG_SAMPLES,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**{**self.defaults, **params})


# an extra: slower and weaker than sgd-bpr on the generated data (docs/benchmarks.md), so only run when named
@register(
    "sgd-warp", "Matrix factorization by SGD on the WARP loss (negatives drawn until one outranks the bought).",
    extra=True,
)
class SGDWARP(SGDModel):
    """:class:`SGDModel` with the WARP loss: up to ``neg_samples`` negatives per purchase, the first that
    violates the margin gives the step, weighted by the estimated rank of the bought article."""

    loss_kind = LOSS_WARP
    defaults: ClassVar[dict[str, Any]] = {
        "neg_samples": DEFAULT_WARP_NEG_SAMPLES,
        "learning_rate": DEFAULT_WARP_LEARNING_RATE,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**{**self.defaults, **params})


# The registry lists a model's parameters from its constructor's signature: SGDModel's, with the subclass's
# defaults.
_base = inspect.signature(SGDModel.__init__)
for _cls in (SGDMSE, SGDWARP):
    _cls.__init__.__signature__ = _base.replace(  # type: ignore[union-attr]
        parameters=[p.replace(default=_cls.defaults.get(p.name, p.default)) for p in _base.parameters.values()]
    )


register_fill(
    "sgd+repurchase",
    "The customer's own past purchases (history) first, then the sgd-bpr list.",
    primary="history",
    fallback="sgd-bpr",
)
