"""Matrix factorization learned by stochastic gradient descent (``sgd-bpr``, ``sgd-mse``, ``sgd+repurchase``).

Customer factors ``xᵤ`` and article factors ``yᵢ`` score ``xᵤ·yᵢ``. Each epoch draws ``nnz`` samples: a
purchase ``(u, i)`` uniformly among the non-zeros of the training matrix and ``neg_samples`` articles ``j``
uniformly among the articles sold in train (a ``j`` the customer bought is skipped). Two losses:

* **BPR** (Rendle et al. 2009): a bought article should score above a sampled one,
  ``Σ −log σ(xᵤ·yᵢ − xᵤ·yⱼ) + reg (‖xᵤ‖² + ‖yᵢ‖² + ‖yⱼ‖²)`` per sample.
* **weighted squared loss with sampled negatives**: ``c (1 − xᵤ·yᵢ)² + Σⱼ (xᵤ·yⱼ)²`` with confidence
  ``c = 1 + alpha * w`` — the ALS objective, with the zeros estimated by sampling instead of ``YᵀY``.

The step size of epoch ``e`` (0-based) is ``learning_rate / (1 + lr_decay * e)``. By default the samples run
in order on one thread: the same seed gives the same factors, bit for bit, in every run (and the numpy
reference of the tests). ``hogwild=True`` runs them as Hogwild (lock-free parallel SGD, Recht et al. 2011) on
``threads`` threads: faster, but the result depends on thread timing, so it is not reproducible. The samples
themselves come from a counter-based hash of ``(seed, epoch, sample number)``.

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
from hmrec.models import _kernels
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
from hmrec.models.base import DEFAULT_K, register
from hmrec.models.compose import register_fill
from hmrec.models.popularity import DEFAULT_HALF_LIFE_DAYS
from hmrec.models.scoring import (
    DEFAULT_RECENT_WEEKS,
    FactorRecommender,
    numba_threads,
    resolve_threads,
)
from hmrec.progress import progress_bar

LOSS_BPR = 0
LOSS_MSE = 1
#: standard deviation of the initial factors (normal), divided by sqrt(factors) so that scores start ~0.1²
INIT_STD = 0.1
#: sample chunks per thread in Hogwild mode
CHUNKS_PER_THREAD = 64
#: customers whose held-out purchases are scored for early stopping (a fixed random subset)
VALIDATION_CUSTOMERS = 20_000
# Default step sizes and epochs, chosen by ``benchmarks/tune_mf.py`` on the backtest week ending 2020-09-15 of the
# small synthetic data (4K buyers; the final week was never used), lr_decay 0.1. MAP@12 after 10/20/40/80 epochs:
#   sgd-bpr  lr 0.01: 0.0152/0.0168/0.0180/-       lr 0.05 (old default): 0.0201/0.0255/0.0286/0.0319
#            lr 0.1:  0.0271/0.0308/0.0340/0.0358  lr 0.2: 0.0269/0.0318/0.0367/0.0376
#   sgd-mse  lr 0.002: 0.0174/0.0248/0.0244/-      lr 0.005 (old default): 0.0223/0.0259/0.0264/0.0284
#            lr 0.01: 0.0259/0.0289/0.0291/-       lr 0.02: diverged (NaN factors)
# BPR: 40 epochs at 0.2 (+44% over the old 20 at 0.05); 80 epochs would add 2% for twice the time.
# On the recalibrated data (docs/calibration.md, second pass), the same week:
#   sgd-bpr  lr 0.05: 0.0066/0.0083/0.0089/0.0103  lr 0.1: 0.0079/0.0099/0.0106/0.0121
#            lr 0.2: 0.0088/0.0101/0.0106/0.0105
# so BPR is now 80 epochs at 0.1 (+14% over 40 at 0.2, for twice the time).
#: step size of the first epoch (BPR; its gradient is bounded, so a large step stays stable)
DEFAULT_LEARNING_RATE = 0.1
#: passes over the data (BPR)
DEFAULT_EPOCHS = 80
# sgd-mse on the recalibrated data, retuned by ``benchmarks/tune_mf.py --only sgd-mse --weeks 2`` on the backtest
# weeks ending 2020-09-08 / 2020-09-15 (mean MAP@12 of the two, best of 10/20/40 epochs; popularity 0.0233):
#   old defaults (lr 0.005, alpha 1, no decay, 4 negatives, 20 epochs): 0.0064
#   lr 0.005 / 0.01 / 0.02 / 0.05: 0.0070 / 0.0098 / 0.0096 (10 epochs, falling after) / diverged
#   at lr 0.01, alpha x half-life: 10 x none diverged, 10 x 7 days 0.0107, 100 x 7 days diverged
#   reg 0 / 0.002 / 0.02: 0.0107 / 0.0107 / 0.0086;  neg_samples 1 / 4 / 8: 0.0065 / 0.0107 / 0.0127
#   the best (lr 0.01, alpha 10, 7 days, 8 negatives) for 40 / 60 / 80 epochs: 0.0127 / 0.0135 / 0.0132
# so sgd-mse is now lr 0.01, alpha 10 with a 7-day decay (as ALS), 8 negatives, 60 epochs: 0.0135, 2.1x the old
# 0.0064 (0.58x popularity), for about 5x the fitting time. Recommending only last week's articles stays best
# (2 / 4 weeks / all: 0.0135 / 0.0134 / 0.0134); filter_bought=True: 0.0080.
#: step size of the weighted squared loss. Its gradient grows with the confidence: without the decay, alpha 10
#: diverges at 0.01 (the counts of rebuys make large confidences), and 0.05 diverges even with alpha 1.
DEFAULT_MSE_LEARNING_RATE = 0.01
#: epochs of the weighted squared loss (60 over 40: +6%; 80 falls back)
DEFAULT_MSE_EPOCHS = 60
#: confidence slope and purchase-weight half-life of the weighted squared loss
DEFAULT_MSE_ALPHA = 10.0
DEFAULT_MSE_HALF_LIFE_DAYS = 7.0
#: sampled negatives per purchase of the weighted squared loss (8 over 4: +18%)
DEFAULT_MSE_NEG_SAMPLES = 8

class SGDTrainer:
    """Epochs of SGD on one weight matrix (independent of Dataset, reused by the early-stopping refit)."""

    def __init__(
        self,
        weights: sp.csr_matrix,
        *,
        loss_kind: int,
        factors: int,
        alpha: float,
        reg: float,
        neg_samples: int,
        threads: int,
        seed: int,
        hogwild: bool = False,
    ) -> None:
        _kernels.compile_kernels()
        self.loss_kind = loss_kind
        conf = weights.copy()
        conf.sort_indices()
        conf.data = (1.0 + alpha * conf.data.astype(np.float64)).astype(np.float32)
        self.conf = conf
        self.rows = np.repeat(np.arange(conf.shape[0], dtype=np.int32), np.diff(conf.indptr))
        self.pool = np.flatnonzero(np.bincount(conf.indices, minlength=conf.shape[1])).astype(np.int32)
        self.reg = np.float32(reg)
        self.neg_samples = int(neg_samples)
        self.threads = threads
        self.hogwild = hogwild
        self.seed = int(seed)
        rng = np.random.default_rng(seed)
        scale = np.float32(INIT_STD / np.sqrt(factors))
        self.x = rng.standard_normal((conf.shape[0], factors), dtype=np.float32) * scale
        self.y = rng.standard_normal((conf.shape[1], factors), dtype=np.float32) * scale

    def epoch_key(self, epoch: int) -> np.uint64:
        """Key of an epoch's sample stream: sample ``t`` hashes ``key + t``."""
        mixed = _kernels.splitmix64(np.uint64(self.seed) * np.uint64(1_000_003) + np.uint64(epoch))
        return np.uint64(mixed)

    def epoch(self, epoch: int, lr: float) -> float:
        """One epoch of ``nnz`` samples; returns the mean per-sample loss (measured before each step)."""
        n = self.conf.nnz
        if n == 0 or self.pool.size == 0:
            return 0.0
        key = self.epoch_key(epoch)
        c = self.conf
        with numba_threads(self.threads):
            if not self.hogwild or self.threads == 1:
                total = _kernels.sgd_epoch_serial(
                    key, self.loss_kind, n, self.rows, c.indptr, c.indices, c.data, self.pool, self.x, self.y,
                    np.float32(lr), self.reg, self.neg_samples,
                )
            else:
                total = _kernels.sgd_epoch_parallel(
                    key, self.loss_kind, n, self.threads * CHUNKS_PER_THREAD, self.rows, c.indptr, c.indices,
                    c.data, self.pool, self.x, self.y, np.float32(lr), self.reg, self.neg_samples,
                )
        return float(total) / n


class SGDModel(FactorRecommender):
    """Matrix factorization by SGD (see the module docstring); subclasses fix the loss.

    Args:
        factors: latent dimensions.
        epochs: passes over the data (each draws ``nnz`` samples); the maximum with early stopping.
        learning_rate: step size of the first epoch.
        lr_decay: the step size of epoch ``e`` is ``learning_rate / (1 + lr_decay * e)``.
        reg: L2 regularization, applied to the factors a step touches.
        neg_samples: sampled negative articles per positive.
        alpha: confidence slope ``c = 1 + alpha * w`` (weighted squared loss only).
        half_life_days: time decay of the purchase weights ``w`` (None: counts).
        seed: seeds the initial factors and the samples.
        threads: numba threads of Hogwild and of scoring (0: all).
        hogwild: lock-free parallel SGD on ``threads`` threads: faster, NOT reproducible (thread timing). Off:
            one thread, samples in order, the same factors for the same seed in every run.
        validation_days: hold out the last days of train for early stopping (None: no early stopping).
        patience: epochs without improvement of the held-out MAP@12 before stopping.
        recent_weeks, filter_bought, fallback_half_life_days: scoring, as for ``als``.
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
        alpha: float = 1.0,
        half_life_days: float | None = None,
        seed: int = 0,
        threads: int = 0,
        hogwild: bool = False,
        validation_days: int | None = None,
        patience: int = 2,
        recent_weeks: float | None = DEFAULT_RECENT_WEEKS,
        filter_bought: bool = False,
        fallback_half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.lr_decay = lr_decay
        self.reg = reg
        self.neg_samples = neg_samples
        self.alpha = alpha
        self.half_life_days = half_life_days
        self.seed = seed
        self.threads = threads
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
        check_positive("learning_rate", self.learning_rate, model=self.name, high=MAX_LEARNING_RATE)
        check_positive("alpha", self.alpha, model=self.name, high=MAX_ALPHA)
        check_positive("half_life_days", self.half_life_days, model=self.name, allow_none=True)
        if self.validation_days is not None:
            check_int("validation_days", self.validation_days, model=self.name)
        check_nonnegative("lr_decay", self.lr_decay, model=self.name, high=MAX_REG)
        check_nonnegative("reg", self.reg, model=self.name, high=MAX_REG)
        check_bool("hogwild", self.hogwild, model=self.name)
        self._check_scoring_params()
        return resolve_threads(self.threads, self.name)

    def _trainer(self, weights: sp.csr_matrix, threads: int) -> SGDTrainer:
        return SGDTrainer(
            weights, loss_kind=self.loss_kind, factors=self.factors, alpha=float(self.alpha),
            reg=float(self.reg), neg_samples=self.neg_samples, threads=threads, seed=self.seed,
            hogwild=self.hogwild,
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
    """:class:`SGDModel` with the weighted squared loss; 8 sampled negatives per purchase by default.

    Its default step size is smaller than BPR's: the squared loss's gradient grows with the confidence and the
    score, while BPR's is bounded by 1. Defaults (lr 0.01, alpha 10 on purchase weights with a 7-day half-life,
    8 negatives, 60 epochs) by backtest on the recalibrated small data, the weeks ending 2020-09-08 and
    2020-09-15: MAP@12 0.0135 against 0.0064 with the old ones (lr 0.005, alpha 1 on counts, 4 negatives, 20
    epochs) and 0.0233 for popularity; the grid is in the comments above ``DEFAULT_MSE_LEARNING_RATE``.
    """

    loss_kind = LOSS_MSE
    #: the defaults that differ from :class:`SGDModel`'s (BPR's); every other parameter is SGDModel's own
    defaults: ClassVar[dict[str, Any]] = {
        "epochs": DEFAULT_MSE_EPOCHS,
        "learning_rate": DEFAULT_MSE_LEARNING_RATE,
        "neg_samples": DEFAULT_MSE_NEG_SAMPLES,
        "alpha": DEFAULT_MSE_ALPHA,
        "half_life_days": DEFAULT_MSE_HALF_LIFE_DAYS,
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**{**self.defaults, **params})


# The registry lists a model's parameters from its constructor's signature: SGDModel's, with sgd-mse's defaults.
_base = inspect.signature(SGDModel.__init__)
SGDMSE.__init__.__signature__ = _base.replace(  # type: ignore[attr-defined]
    parameters=[p.replace(default=SGDMSE.defaults.get(p.name, p.default)) for p in _base.parameters.values()]
)


register_fill(
    "sgd+repurchase",
    "The customer's own past purchases (history) first, then the sgd-bpr list.",
    primary="history",
    fallback="sgd-bpr",
)
