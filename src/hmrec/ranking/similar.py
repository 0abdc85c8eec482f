"""Similar-article candidate sources, learned from the data without choosing any attribute column.

Both propose the neighbours of what the customer bought lately, as the ``copurchase`` source does, with
another notion of "neighbour":

- ``als-similar``: the closeness of the articles' ALS factors (``hmrec.models.als.ALS``, fitted on the
  purchases the source is given; cosine, or the projection of one on the other): articles bought by the
  same customers end up close;
- ``text-similar``: the cosine similarity of the articles' TF-IDF vectors over their text, the string columns
  of the articles file that read as names or descriptions (see :func:`text_columns`; chosen from the values,
  never by column name).

Each article ``a`` the customers bought in the last ``weeks`` weeks keeps its ``neighbours`` most similar
articles ``b != a`` (positive similarity only, ties to the lower article) among the targets, the articles
sold in the last ``recent_weeks`` weeks (what a customer can still buy). A customer's score for ``b`` is
``sum_a own(c, a) * sim(a, b)`` over their time-decayed purchases ``own`` of the last ``weeks`` weeks (as in
``copurchase``); with ``exclude_bought`` the articles of ``own`` are left out (``repurchase`` proposes them).

Similarities are computed in blocks of rows against all targets (at most ``BLOCK_CELLS`` cells at a time),
so memory stays bounded on the whole catalogue. Customers without purchases in the window, and data without
purchases or text, give empty lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_ID, ARTICLE_IDX
from hmrec.errors import ParameterError
from hmrec.models.base import top_k
from hmrec.models.lists import BLOCK_CELLS, csr_row_top_k
from hmrec.models.sales import article_sales, store_csr, stored_csr
from hmrec.ranking.sources import OWN_HALF_LIFE_DAYS, SOURCES, SourceContext, _OwnMatrix

#: a string column whose values average this many words or more is free text (a description)
TEXT_MIN_WORDS = 5.0
#: a string column with at least this many distinct values per article is a name (a category repeats one
#: value over hundreds of articles; a name is shared by the colours of one product only)
NAME_MIN_DISTINCT_SHARE = 0.2
#: the words held by the most texts, multiplied as dense matrices when comparing texts (:func:`cosine_blocks`)
DENSE_TERMS = 256
#: share of a column's values that must hold a letter (codes and numbers written as strings are not text)
TEXT_MIN_LETTER_SHARE = 0.5


class _NeighbourSource(_OwnMatrix):
    """Scores ``own @ neighbours``: the neighbour matrix (articles x articles) is what subclasses learn."""

    cold_by_age = True  # a customer without purchases gets nothing

    nb_indptr_: np.ndarray
    nb_indices_: np.ndarray
    nb_data_: np.ndarray

    weeks: float
    half_life_days: float
    recent_weeks: float
    exclude_bought: bool

    def _fit_own(self, train: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """Store the customers' decayed purchases of the last ``weeks`` weeks; returns (bought, targets):
        the articles bought in that window and those sold in the last ``recent_weeks`` weeks (sorted)."""
        end = train.end_date
        start = end - dt.timedelta(days=int(7 * self.weeks) - 1) if end is not None else None
        own = train.interactions(start, end, half_life_days=self.half_life_days, reference=end)
        self._store(own)
        bought = np.flatnonzero(np.bincount(own.indices, minlength=train.n_articles) > 0)
        targets = np.flatnonzero(article_sales(train, days=7 * self.recent_weeks) > 0)
        return bought.astype(np.int64), targets.astype(np.int64)

    def _store_neighbours(self, nb: sp.csr_matrix) -> None:
        nb = sp.csr_matrix(nb, dtype=np.float32)
        nb.sort_indices()
        store_csr(self, "nb_", nb)

    def neighbour_matrix(self) -> sp.csr_matrix:
        """Articles x articles: ``sim(a, b)`` for the kept neighbours ``b`` of each article ``a``."""
        return stored_csr(self, "nb_")

    def candidates(self, customers: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        own = self.matrix()[np.asarray(customers, dtype=np.int64)]
        scores = sp.csr_matrix(own @ self.neighbour_matrix())
        if self.exclude_bought:
            bought = own.copy()
            bought.data[:] = 1.0
            scores = sp.csr_matrix(scores - scores.multiply(bought))
            scores.eliminate_zeros()
        return csr_row_top_k(scores, np.arange(scores.shape[0]), n)


def nearest(
    similarity: Callable[[np.ndarray], np.ndarray],
    rows: np.ndarray,
    targets: np.ndarray,
    k: int,
    shape: tuple[int, int],
    *,
    exclude_self: bool,
) -> sp.csr_matrix:
    """Each row's ``k`` most similar targets (then positive similarity only; ties to the lower target), as a CSR.

    ``similarity(block)`` gives the dense ``(len(block), len(targets))`` similarities of a block of ``rows``
    against the sorted ``targets``; it is called on blocks of at most ``BLOCK_CELLS`` cells. With
    ``exclude_self`` a row is never its own neighbour (rows and targets index the same things). The result
    has ``shape`` with ``sim`` at ``(row, target)``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if rows.size == 0 or targets.size == 0 or k < 1:
        return sp.csr_matrix(shape, dtype=np.float32)
    step = max(1, BLOCK_CELLS // targets.size)
    parts_r, parts_i, parts_v = [], [], []
    for lo in range(0, rows.size, step):
        block = rows[lo : lo + step]
        sims = np.asarray(similarity(block), dtype=np.float32)
        if exclude_self:
            pos = np.minimum(np.searchsorted(targets, block), targets.size - 1)
            own = np.flatnonzero(targets[pos] == block)
            sims[own, pos[own]] = -np.inf
        ids, values = _top_positive(sims, k)
        parts_r.append(block)
        parts_i.append(np.where(ids >= 0, targets[np.maximum(ids, 0)], -1))
        parts_v.append(values)
    return positive_neighbours(np.concatenate(parts_r), np.concatenate(parts_i), np.concatenate(parts_v), shape)


def positive_neighbours(rows: np.ndarray, ids: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """The CSR of ranked lists ``(ids, values)`` (one per row of ``rows``), keeping positive similarities only."""
    r, j = np.nonzero((ids >= 0) & (values > 0))
    return sp.csr_matrix((values[r, j], (rows[r], ids[r, j])), shape=shape, dtype=np.float32)


def _top_positive(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest positive scores, best first, ties to the lower column (padded -1 / -inf).

    What :func:`hmrec.models.base.top_k` gives once its non-positive entries are dropped, for a fraction of
    its time on a large block (it sorts and counts every cell): ``np.argpartition`` finds the ``k`` largest
    and only their ``k`` get sorted. Partitioning settles a tie at the ``k``-th place arbitrarily, so the
    rows where the ``k + 1``-th score equals the ``k``-th and is positive (identical vectors) go through
    ``top_k``."""
    n, width = scores.shape
    if k >= width:
        ids, values = top_k(scores, k)
    else:
        part = np.argpartition(-scores, k, axis=1)
        chosen = part[:, :k]
        values = np.take_along_axis(scores, chosen, axis=1)
        order = np.lexsort((chosen, -values), axis=1)
        ids = np.take_along_axis(chosen, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        boundary = np.take_along_axis(scores, part[:, k : k + 1], axis=1)[:, 0]
        tied = np.flatnonzero((boundary == values[:, -1]) & (boundary > 0))
        if tied.size:
            ids[tied], values[tied] = top_k(scores[tied], k)
    positive = values > 0
    return np.where(positive, ids, -1).astype(np.int32), np.where(positive, values, -np.inf).astype(np.float32)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with each row scaled to length 1 (all-zero rows stay zero; float32)."""
    norms = np.sqrt(np.square(matrix, dtype=np.float64).sum(axis=1, keepdims=True))
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


#: how ``als-similar`` compares two articles' factors (see :class:`ALSSimilarSource`)
ALS_SIMILARITIES = ("cosine", "projection")


class ALSSimilarSource(_NeighbourSource):
    """Neighbours by the ALS item factors ``q`` (articles bought by the same customers lie close).

    ``similarity="cosine"``: ``sim(a, b) = q_a . q_b / (|q_a| |q_b|)``; ``"projection"`` (default):
    ``sim(a, b) = q_a . q_b / |q_a|``, the length of ``q_b`` along ``q_a``'s direction, so that among
    articles in the same direction the ones ALS is surer of (longer factors: more, and more recent, buyers)
    come first. On generated ``small`` (docs/benchmarks.md) projection found about three times the pairs
    of cosine at 12 candidates, and added more to the union of the other sources.
    """

    name = "als-similar"

    def __init__(
        self,
        neighbours: int = 20,
        recent_weeks: float = 1,
        weeks: float = 8,
        half_life_days: float = OWN_HALF_LIFE_DAYS,
        exclude_bought: bool = False,
        similarity: str = "projection",
        factors: int = 32,
        iterations: int = 8,
        seed: int = 0,
        threads: int = 0,
    ) -> None:
        self.neighbours = neighbours
        self.recent_weeks = recent_weeks
        self.weeks = weeks
        self.half_life_days = half_life_days
        self.exclude_bought = exclude_bought
        self.similarity = similarity
        self.factors = factors
        self.iterations = iterations
        self.seed = seed
        self.threads = threads

    @classmethod
    def create(cls, context: SourceContext) -> ALSSimilarSource:
        return cls(seed=context.seed, threads=context.threads)

    def fit(self, train: Dataset) -> ALSSimilarSource:
        if self.similarity not in ALS_SIMILARITIES:
            raise ParameterError(
                f"{self.name}: parameter 'similarity' must be one of {', '.join(ALS_SIMILARITIES)}, "
                f"got {self.similarity!r}"
            )
        bought, targets = self._fit_own(train)
        self._store_neighbours(als_neighbours(
            train, bought, targets, self.neighbours, similarity=self.similarity, factors=self.factors,
            iterations=self.iterations, seed=self.seed, threads=self.threads, name=self.name,
        ))
        return self


def als_neighbours(
    train: Dataset,
    rows: np.ndarray,
    targets: np.ndarray,
    k: int,
    *,
    similarity: str = "projection",
    factors: int = 32,
    iterations: int = 8,
    seed: int = 0,
    threads: int = 0,
    name: str = "als-similar",
) -> sp.csr_matrix:
    """Articles x articles: each of ``rows``' ``k`` nearest ``targets`` (sorted) by the item factors of an ALS
    fitted on ``train`` (``similarity`` as in :class:`ALSSimilarSource`), positive similarities only, never
    the article itself. Deterministic under ``seed``; ``name`` is what a parameter error names."""
    m = train.n_articles
    rows = np.asarray(rows, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if rows.size == 0 or targets.size == 0:
        return sp.csr_matrix((m, m), dtype=np.float32)
    from hmrec.models.als import ALS
    from hmrec.models.scoring import resolve_threads, score_top_k

    model = ALS(factors=factors, iterations=iterations, seed=seed, threads=threads, track_loss=False)
    model.name = "als"  # type: ignore[misc]
    model.fit(train)
    unit = unit_rows(model.item_factors_)
    compared = unit if similarity == "cosine" else model.item_factors_
    # the factor models' exact top-k kernel, each article a "customer" that excludes itself
    ids, values = score_top_k(
        unit, compared, rows, targets.astype(np.int32), k,
        exclude=sp.identity(m, dtype=np.float32, format="csr"), threads=resolve_threads(threads, name),
    )
    return positive_neighbours(rows, ids, values, (m, m))


# ---------------------------------------------------------------------- text
def text_columns(articles: pl.DataFrame) -> list[str]:
    """The string columns of ``articles`` that read as text: free text or names, judged by their values.

    A column qualifies when most of its values hold a letter and either they average
    ``TEXT_MIN_WORDS`` words or more (a description) or the column has at least
    ``NAME_MIN_DISTINCT_SHARE`` distinct values per article (a name: categories repeat a handful of values).
    The article id is never text. Columns keep their order in the file.
    """
    chosen = []
    n = max(articles.height, 1)
    for column, dtype in articles.schema.items():
        if column == ARTICLE_ID or dtype not in (pl.String, pl.Categorical):
            continue
        values = articles[column].cast(pl.String).drop_nulls()
        if values.len() == 0:
            continue
        letters = values.str.contains(r"[^\W\d_]").cast(pl.Float64).to_numpy().mean()
        words = values.str.count_matches(r"\S+").cast(pl.Float64).to_numpy().mean()
        if letters < TEXT_MIN_LETTER_SHARE:
            continue
        if words >= TEXT_MIN_WORDS or values.n_unique() >= NAME_MIN_DISTINCT_SHARE * n:
            chosen.append(column)
    return chosen


def article_texts(articles: pl.DataFrame) -> np.ndarray:
    """Per article (in ``article_idx`` order) its text columns joined by spaces (str array).

    An article whose text holds no word character (or data without text columns) gets ""."""
    columns = text_columns(articles)
    ordered = articles.sort(ARTICLE_IDX)
    if not columns:
        return np.full(ordered.height, "", dtype=object)
    joined = ordered.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in columns], separator=" ").str.strip_chars()
    ).to_series()
    joined = pl.select(pl.when(joined.str.contains(r"\w")).then(joined).otherwise(pl.lit(""))).to_series()
    return joined.to_numpy().astype(object)


def cosine_blocks(vectors: sp.csr_matrix, targets: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``block -> vectors[block] . vectors[targets]`` as a dense array (for :func:`nearest`).

    A sparse product spends its time on the few words most texts hold (their lists of texts are long, and
    they make the result dense anyway): the ``DENSE_TERMS`` words in the most target texts are multiplied
    as dense matrices (BLAS), the rest as sparse ones, and the two parts added. Exact, several times faster
    than the sparse product alone."""
    target_rows = sp.csr_matrix(vectors[targets])
    df = np.bincount(target_rows.indices, minlength=vectors.shape[1])
    common = np.zeros(vectors.shape[1], dtype=bool)
    common[np.argsort(-df, kind="stable")[:DENSE_TERMS]] = True
    common_cols, rare_cols = np.flatnonzero(common), np.flatnonzero(~common)
    dense_targets = np.ascontiguousarray(target_rows[:, common_cols].toarray().T)
    rare_targets = sp.csr_matrix(target_rows[:, rare_cols].T)
    common_vectors = sp.csr_matrix(vectors[:, common_cols])
    rare_vectors = sp.csr_matrix(vectors[:, rare_cols])

    def similarity(block: np.ndarray) -> np.ndarray:
        out = common_vectors[block].toarray() @ dense_targets
        out += (rare_vectors[block] @ rare_targets).toarray()
        return out

    return similarity


class TextSimilarSource(_NeighbourSource):
    """Neighbours by the cosine similarity of the articles' TF-IDF text vectors.

    Articles with the same text share one vector: neighbours are found between distinct texts (each text's
    ``neighbours + 1`` most similar target texts, itself included), then spread over the target articles of
    those texts. Distinct texts are numbered by their lowest target article, so a tie between texts goes to
    the one holding the lower article, and the result equals ranking all article pairs by
    ``(-sim, article)``. Articles without text have no neighbours and are nobody's neighbour.
    """

    name = "text-similar"

    def __init__(
        self,
        neighbours: int = 20,
        recent_weeks: float = 1,
        weeks: float = 8,
        half_life_days: float = OWN_HALF_LIFE_DAYS,
        exclude_bought: bool = False,
    ) -> None:
        self.neighbours = neighbours
        self.recent_weeks = recent_weeks
        self.weeks = weeks
        self.half_life_days = half_life_days
        self.exclude_bought = exclude_bought

    def fit(self, train: Dataset) -> TextSimilarSource:
        m = train.n_articles
        bought, targets = self._fit_own(train)
        texts = article_texts(train.articles)
        has_text = texts != ""
        bought, targets = bought[has_text[bought]], targets[has_text[targets]]
        if bought.size == 0 or targets.size == 0:
            self._store_neighbours(sp.csr_matrix((m, m), dtype=np.float32))
            return self
        text_of, distinct = _number_texts(texts, has_text, targets)
        from sklearn.feature_extraction.text import TfidfVectorizer  # imported here: it takes a second to load

        # every non-empty text has a word character, so the vocabulary is never empty
        vectors = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", dtype=np.float32).fit_transform(distinct)
        vectors = sp.csr_matrix(vectors, dtype=np.float32)
        target_texts = np.unique(text_of[targets])
        k = self.neighbours + 1  # the article's own text may hold no other article
        text_nb = nearest(
            cosine_blocks(vectors, target_texts), np.unique(text_of[bought]), target_texts, k,
            (len(distinct), len(distinct)), exclude_self=False,
        )
        self._store_neighbours(self._spread(text_nb, text_of, bought, targets, m))
        return self

    def _spread(
        self, text_nb: sp.csr_matrix, text_of: np.ndarray, bought: np.ndarray, targets: np.ndarray, m: int
    ) -> sp.csr_matrix:
        """Article neighbours from text neighbours: ``sim(a, b) = sim(text(a), text(b))``, ``b`` a target.

        Within one text all targets tie, so only its ``neighbours + 1`` lowest articles can enter anyone's
        list (one may be the article itself). Rows are done in blocks so that the product stays bounded.
        """
        n_texts = text_nb.shape[0]
        keep = self.neighbours + 1
        order = targets[np.lexsort((targets, text_of[targets]))]
        first = np.searchsorted(text_of[order], text_of[order], side="left")
        lowest = order[np.arange(order.size) - first < keep]
        members = sp.csr_matrix(
            (np.ones(lowest.size, dtype=np.float32), (text_of[lowest], lowest)), shape=(n_texts, m)
        )
        step = max(1, BLOCK_CELLS // (keep * keep))
        parts_r, parts_c, parts_v = [], [], []
        for lo in range(0, bought.size, step):
            block = bought[lo : lo + step]
            scores = sp.csr_matrix(text_nb[text_of[block]] @ members)
            scores = sp.csr_matrix(scores - scores.multiply(sp.csr_matrix(
                (np.ones(block.size, dtype=np.float32), (np.arange(block.size), block)), shape=scores.shape
            )))  # never the article itself
            scores.eliminate_zeros()
            ids, values = csr_row_top_k(scores, np.arange(block.size), self.neighbours)
            r, j = np.nonzero(ids >= 0)
            parts_r.append(block[r])
            parts_c.append(ids[r, j])
            parts_v.append(values[r, j])
        return sp.csr_matrix(
            (np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))), shape=(m, m),
            dtype=np.float32,
        )


def _number_texts(texts: np.ndarray, has_text: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per article the number of its distinct text (-1 without text), and the distinct texts in number order.

    Texts are numbered by their lowest target article, then (texts without a target) by their lowest article.
    """
    m = texts.size
    with_text = np.flatnonzero(has_text)
    uniq, inverse = np.unique(texts[with_text].astype(str), return_inverse=True)
    key = with_text.astype(np.int64) + m  # articles that are not targets come after every target
    is_target = np.zeros(m, dtype=bool)
    is_target[targets] = True
    key[is_target[with_text]] -= m
    lowest = np.full(uniq.size, 2 * m, dtype=np.int64)
    np.minimum.at(lowest, inverse, key)
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[np.argsort(lowest, kind="stable")] = np.arange(uniq.size)
    text_of = np.full(m, -1, dtype=np.int64)
    text_of[with_text] = rank[inverse]
    distinct = [str(t) for t in uniq[np.argsort(rank)]]
    return text_of, distinct


SOURCES.update({cls.name: cls for cls in (ALSSimilarSource, TextSimilarSource)})
