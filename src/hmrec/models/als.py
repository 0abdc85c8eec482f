"""Implicit-feedback matrix factorization by alternating least squares (``als``; ``als+repurchase`` fills it).

Hu, Koren & Volinsky (2008), "Collaborative Filtering for Implicit Feedback Datasets". With ``w`` the
customers x articles purchase matrix (counts, optionally time-decayed), preference ``p = 1`` where ``w > 0``
(else 0) and confidence ``c = 1 + alpha * w`` (else 1), ALS minimizes

    L(X, Y) = Σᵤᵢ cᵤᵢ (pᵤᵢ − xᵤ·yᵢ)² + reg (‖X‖² + ‖Y‖²)

by alternating: with ``Y`` fixed each customer's row is a regularized least-squares problem with the normal
equations ``(YᵀY + reg·I + Yᵀ(Cᵤ − I)Y) xᵤ = YᵀCᵤpᵤ``; ``YᵀY`` is shared by all customers and
``Cᵤ − I`` is non-zero only on the articles ``u`` bought, so a row costs ``O(nnz(u)·f)`` beyond the shared
part. Then the same for the articles with ``X`` fixed.

Two solvers: ``cholesky`` forms and factorizes each row's ``f x f`` matrix (exact, ``O(nnz·f² + f³)`` per
row); ``cg`` (default) takes ``cg_steps`` conjugate-gradient steps warm-started from the previous iteration's
factors (Takács, Pilászy & Tikk 2011), never forming the matrix. The kernels are numba ``prange`` loops in
``hmrec.models._kernels``; the tests compare them with the numpy reference in ``hmrec.models._reference``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.errors import ParameterError
from hmrec.models import _kernels
from hmrec.models._params import MAX_ALPHA, MAX_FACTORS, MAX_REG, check_int, check_nonnegative, check_positive
from hmrec.models.base import register
from hmrec.models.compose import register_fill
from hmrec.models.popularity import DEFAULT_HALF_LIFE_DAYS
from hmrec.models.scoring import (
    DEFAULT_RECENT_WEEKS,
    FactorRecommender,
    numba_threads,
    resolve_threads,
)
from hmrec.progress import progress_bar

SOLVERS = ("cg", "cholesky")
#: chunks per thread: enough for the work-balanced chunks to even out cache effects between threads
CHUNKS_PER_THREAD = 16
#: rows per float32 block of the Gram matrix (1 MiB of factors at 64 factors: a BLAS product at full speed).
#: On 1.37M x 64 random factors the blocked float32 sum was as close to the exact sum as the float64 product
#: rounded to float32 (largest relative error 6.2e-8 against 5.6e-8) and 3.7x faster
GRAM_BLOCK = 4096
#: scale of the uniform random initial factors (as implicit: U[0, 1) * 0.01)
INIT_SCALE = 0.01
# Default hyperparameters, chosen by ``benchmarks/tune_mf.py`` on two backtest weeks of the small synthetic data
# (test weeks ending 2020-09-15 / 2020-09-08, ~4K buyers each; the final week was never used), factors=64 and
# iterations=15 fixed. MAP@12 of the old defaults (alpha 10, reg 0.01, no decay): 0.0486 / 0.0465.
#: time decay of the purchase weights: recent purchases say more about the next week's. With the best alpha
#: for each: no decay 0.0497 / 0.0477 (alpha 5), 7 days 0.0598 / 0.0566 (alpha 200 / 100), 14 days
#: 0.0612 / 0.0573 (alpha 100), 30 days 0.0590 / 0.0566 (alpha 40). On the recalibrated data (second pass,
#: docs/calibration.md: rebuys follow recent purchases) 7 days is best on both weeks: 0.0225 / 0.0227 at
#: alpha 100, reg 10 for the week ending 2020-09-15 and alpha 200 for 2020-09-08, against 0.0214 / 0.0218 with 14.
DEFAULT_DECAY_DAYS: float | None = 7.0
#: confidence slope: decayed weights are small (a purchase 14 days old weighs 1/2, 8 weeks old 1/16), so it takes
#: a large alpha for them to stand out from the zeros. With a 14-day decay, alpha 5/10/40/100/200:
#: 0.0483/0.0512/0.0594/0.0612/0.0590 and 0.0465/0.0488/0.0566/0.0573/0.0567.
DEFAULT_ALPHA = 100.0
#: L2 regularization: a flat plateau; at alpha 100 / 14 days, reg 0.01/0.1/1/10: 0.0603/0.0612/0.0608/0.0610
#: and 0.0574/0.0573/0.0583/0.0589 (means 0.0589/0.0593/0.0595/0.0600, all within 2%). On the recalibrated
#: data (docs/calibration.md; week ending 2020-09-15) reg 0.01/0.1/1/10: 0.0315/0.0319/0.0319/0.0335, so 10.
DEFAULT_REG = 10.0


def confidence_matrix(weights: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """``c = 1 + alpha * w`` on the non-zeros of ``weights`` (a new float32 CSR; the input is unchanged)."""
    data = (1.0 + float(alpha) * weights.data.astype(np.float64)).astype(np.float32)
    conf = sp.csr_matrix((data, weights.indices.copy(), weights.indptr.copy()), shape=weights.shape)
    conf.sort_indices()
    return conf


def gram(factors: np.ndarray, reg: float) -> np.ndarray:
    """``FᵀF + reg·I`` as float32, summed over blocks of :data:`GRAM_BLOCK` rows.

    Each block's ``FᵀF`` is one float32 BLAS product (``syrk``: exactly symmetric); the blocks are added in
    float64, in order. Over millions of rows that keeps the float64 accuracy of a float64 product (a float32
    sum over all rows would not) without its cost: converting all the factors to float64 doubled their
    memory and, with the float64 product, took a fifth of an iteration on ``medium``. The blocks are fixed
    by the row count, not by the threads, so the result is too.
    """
    n, f = factors.shape
    total = np.zeros((f, f))
    for lo in range(0, n, GRAM_BLOCK):
        block = factors[lo : lo + GRAM_BLOCK]
        total += block.T @ block
    total[np.diag_indices(f)] += reg
    return total.astype(np.float32)


class ALSSolver:
    """The training loop on a confidence matrix, independent of Dataset (the benchmark and tests use it).

    Args:
        conf: customers x articles confidences ``1 + alpha * w`` (float32 CSR, sorted indices).
        factors, reg, solver, cg_steps, threads: as in :class:`ALS`.
        seed: seeds the initial factors ``U[0, 1) * 0.01`` (customers first, then articles).
    """

    def __init__(
        self,
        conf: sp.csr_matrix,
        *,
        factors: int,
        reg: float,
        solver: str,
        cg_steps: int,
        threads: int,
        seed: int,
    ) -> None:
        _kernels.compile_kernels()
        self.conf = conf
        self.conf_t = conf.T.tocsr()
        self.conf_t.sort_indices()
        self.reg = float(reg)
        self.solver = solver
        self.cg_steps = int(cg_steps)
        self.threads = threads
        rng = np.random.default_rng(seed)
        n_users, n_items = conf.shape
        self.x = rng.random((n_users, factors), dtype=np.float32) * np.float32(INIT_SCALE)
        self.y = rng.random((n_items, factors), dtype=np.float32) * np.float32(INIT_SCALE)
        chunks = threads * CHUNKS_PER_THREAD
        self.user_bounds = _kernels.balanced_chunks(conf.indptr, chunks, factors)
        self.item_bounds = _kernels.balanced_chunks(self.conf_t.indptr, chunks, factors)
        # normalizer of the loss: total confidence over all cells, as implicit reports it
        self.total_confidence = float(conf.data.sum(dtype=np.float64)) + n_users * n_items - conf.nnz

    def _half(self, m: sp.csr_matrix, x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> None:
        yty = gram(y, self.reg)
        if self.solver == "cg":
            _kernels.als_cg(m.indptr, m.indices, m.data, x, y, yty, self.cg_steps, bounds)
        else:
            _kernels.als_cholesky(m.indptr, m.indices, m.data, x, y, yty.astype(np.float64), bounds)

    def iterate(self) -> None:
        """One ALS iteration: every customer's factors, then every article's."""
        with numba_threads(self.threads):
            self._half(self.conf, self.x, self.y, self.user_bounds)
            self._half(self.conf_t, self.y, self.x, self.item_bounds)

    def loss(self) -> float:
        """``L(X, Y)`` (see the module docstring) divided by the total confidence ``Σ cᵤᵢ`` over all cells.

        Summed over customers: rows of ``X`` are read in order and the rows of ``Y`` they touch are few
        enough to stay in cache (the article side would jump around the much larger ``X``: ~2x slower).
        """
        with numba_threads(self.threads):
            yty = gram(self.y, 0.0)
            c = self.conf
            terms = _kernels.als_loss_terms(
                c.indptr, c.indices, c.data, self.y, self.x, yty, self.user_bounds
            )
        penalty = self.reg * (float(np.square(self.x, dtype=np.float64).sum())
                              + float(np.square(self.y, dtype=np.float64).sum()))
        return (float(terms.sum()) + penalty) / self.total_confidence


@register("als", "Matrix factorization by implicit-feedback ALS (conjugate gradient), top articles by P·Qᵀ.")
class ALS(FactorRecommender):
    """Implicit-feedback ALS (see the module docstring), scored over recent candidate articles.

    Args:
        factors: latent dimensions ``f``.
        reg: L2 regularization ``reg`` on both factor matrices.
        alpha: confidence slope: ``c = 1 + alpha * w``.
        iterations: ALS iterations (one customers step plus one articles step each).
        solver: ``"cg"`` (conjugate gradient, default, fast) or ``"cholesky"`` (exact).
        cg_steps: conjugate-gradient steps per row and iteration.
        half_life_days: time decay of the purchase weights ``w`` (None: plain counts).
        seed: seeds the initial factors.
        threads: numba threads (0: all).
        track_loss: compute the training loss after every iteration (about 10% more time); shown on the
            progress bar and kept in ``loss_history_``.
        recent_weeks: candidates are the articles sold in the last ``recent_weeks`` weeks (None: all).
        filter_bought: never recommend an article the customer already bought. Off by default: customers
            rebuy, and filtering more than halved MAP@12 on the backtest weeks of the small synthetic data
            (0.0612 -> 0.0241 and 0.0589 -> 0.0258, weeks ending 2020-09-15 and 09-08).
        fallback_half_life_days: decay of the popularity given to customers without history.
    """

    loss_history_: np.ndarray

    def __init__(
        self,
        factors: int = 64,
        reg: float = DEFAULT_REG,
        alpha: float = DEFAULT_ALPHA,
        iterations: int = 15,
        solver: str = "cg",
        cg_steps: int = 3,
        half_life_days: float | None = DEFAULT_DECAY_DAYS,
        seed: int = 0,
        threads: int = 0,
        track_loss: bool = True,
        recent_weeks: float | None = DEFAULT_RECENT_WEEKS,
        filter_bought: bool = False,
        fallback_half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    ) -> None:
        self.factors = factors
        self.reg = reg
        self.alpha = alpha
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.half_life_days = half_life_days
        self.seed = seed
        self.threads = threads
        self.track_loss = track_loss
        self.recent_weeks = recent_weeks
        self.filter_bought = filter_bought
        self.fallback_half_life_days = fallback_half_life_days

    def _validate(self) -> int:
        check_int("factors", self.factors, model=self.name, high=MAX_FACTORS)
        check_int("iterations", self.iterations, model=self.name)
        check_int("cg_steps", self.cg_steps, model=self.name)
        check_int("seed", self.seed, model=self.name, low=0)
        check_nonnegative("reg", self.reg, model=self.name, high=MAX_REG)
        check_positive("alpha", self.alpha, model=self.name, high=MAX_ALPHA)
        check_positive("half_life_days", self.half_life_days, model=self.name, allow_none=True)
        if self.solver not in SOLVERS:
            raise ParameterError(
                f"{self.name}: parameter 'solver' must be one of {', '.join(SOLVERS)}, got {self.solver!r}"
            )
        if not isinstance(self.track_loss, bool):
            raise ParameterError(
                f"{self.name}: parameter 'track_loss' must be true or false, got {self.track_loss!r}"
            )
        self._check_scoring_params()
        return resolve_threads(self.threads, self.name)

    def fit(self, train: Dataset) -> Self:
        """Learn the factors from all of ``train``'s transactions (a refit starts from new random factors)."""
        threads = self._validate()
        self._reset()
        self._check_factor_memory(train)
        weights = train.interactions(half_life_days=self.half_life_days)
        solver = ALSSolver(
            confidence_matrix(weights, self.alpha),
            factors=self.factors,
            reg=self.reg,
            solver=self.solver,
            cg_steps=self.cg_steps,
            threads=threads,
            seed=self.seed,
        )
        losses: list[float] = []
        with progress_bar() as bar:
            task = bar.add_task(f"{self.name}: ALS iterations", total=self.iterations, info="")
            for _ in range(self.iterations):
                solver.iterate()
                if self.track_loss:
                    losses.append(solver.loss())
                    bar.update(task, info=f"loss {losses[-1]:.6g}")
                bar.advance(task)
        self.user_factors_ = solver.x
        self.item_factors_ = solver.y
        self.loss_history_ = np.asarray(losses, dtype=np.float64)
        self._fit_scoring(train, weights)
        return self


register_fill(
    "als+repurchase",
    "The customer's own past purchases (history) first, then the ALS list.",
    primary="history",
    fallback="als",
)
