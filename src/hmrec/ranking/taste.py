"""Which article attributes carry customers' taste, learned from the data the ranker is fitted on.

A *key* is a combination of one to three article attribute columns (e.g. a colour, or a garment type x a
colour); an article's value of the key is its combination of those columns' values. Customers keep a taste when
the values of their next purchases are among the values they bought before. Nothing here knows which columns
those are: :func:`learn_keys` measures it on the ranker's own validation week.

- **Candidate columns** (:func:`attribute_columns`): every article column except the article's own id and its
  product id, with at least two values and fewer than half as many values as there are products (a column that
  is about as fine as the product is its name or its description, not an attribute shared by many products).
  Columns that split the articles the same way (a code and its name) count once: the first in file order.
- **The score of a key** (:func:`key_recall`): the recall, on the validation week, of the taste source built
  on it (its ``n`` candidates per customer; :class:`hmrec.ranking.sources.TasteSource`), over a seeded sample
  of that week's buyers, fitted on the data before the week only.
- **The search**: every single column; then the pairs that extend one of the ``beam`` best singles; then the
  triples that extend one of the ``beam`` best pairs. A combination that splits the articles no finer than one
  of its parts is skipped (it is that part).
- **The keys kept**: the best ``singles`` single columns, the best ``pairs`` pairs and the best ``triples``
  triples, ordered by their recall (best first): the taste source uses the first, the ranker's features all.

Relabelling or permuting the attribute columns changes the names reported, not the keys' values or scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_ID, ARTICLE_IDX
from hmrec.models.lists import csr_lookup, csr_row_top_k
from hmrec.models.sales import article_sales

#: the product id column of the articles file: articles of one product are its colours
PRODUCT_COLUMN = "product_code"
#: taste keys kept: the best single columns, pairs and triples
KEPT_PER_SIZE = (2, 2, 1)
#: how many keys the ranker's features have room for
TASTE_SLOTS = sum(KEPT_PER_SIZE)


@dataclass(frozen=True)
class TasteKey:
    """A combination of article attribute columns and its recall on the validation week."""

    columns: tuple[str, ...]
    gain: float  # nats per new purchase (:func:`key_gain`)
    recall: float  # of the new purchases by its taste source (:func:`novel_recall`; NaN: not measured)
    values: int

    @property
    def label(self) -> str:
        return " x ".join(self.columns) if self.columns else "(none)"


def attribute_codes(articles: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Per article a dense code ``0..V-1`` of its combination of ``columns`` (those present; int32).

    Nulls are a value of their own; with none of the columns present every article gets 0."""
    present = [c for c in columns if c in articles.columns]
    if not present:
        return np.zeros(articles.height, dtype=np.int32)
    codes = np.zeros(articles.height, dtype=np.int64)
    for column in present:
        _, dense = np.unique(articles[column].cast(pl.String).fill_null("\x00").to_numpy().astype(str),
                             return_inverse=True)
        codes = codes * (int(dense.max(initial=0)) + 1) + dense.ravel()
        codes = np.unique(codes, return_inverse=True)[1].ravel().astype(np.int64)  # stays dense, no overflow
    return codes.astype(np.int32)


def _n_values(codes: np.ndarray) -> int:
    return int(codes.max(initial=-1)) + 1


def attribute_columns(articles: pl.DataFrame) -> list[str]:
    """The article columns that may carry taste, one per way of splitting the articles (module docstring)."""
    ids = {ARTICLE_ID, ARTICLE_IDX, PRODUCT_COLUMN}
    products = articles[PRODUCT_COLUMN].n_unique() if PRODUCT_COLUMN in articles.columns else articles.height
    kept: list[str] = []
    kept_codes: list[np.ndarray] = []
    for column in articles.columns:
        if column in ids:
            continue
        codes = attribute_codes(articles, [column])
        values = _n_values(codes)
        if values < 2 or values * 2 > products:
            continue
        # a code and its name split the articles alike: their pair has no more values than either
        if any(_n_values(k) == values and _n_values(attribute_codes_of(k, codes)) == values for k in kept_codes):
            continue
        kept.append(column)
        kept_codes.append(codes)
    return kept


def attribute_codes_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense codes of the combination of two code arrays (int32)."""
    joint = a.astype(np.int64) * (_n_values(b) + 1) + b
    return np.unique(joint, return_inverse=True)[1].ravel().astype(np.int32)


def taste_tables(
    rows: sp.csr_matrix, codes: np.ndarray, sales: np.ndarray, *, top: int, depth: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The taste source's two matrices for the key whose per-article values are ``codes``.

    ``rows``: customers x articles purchase rows. Returns ``share`` (customers x values: each customer's share
    of their rows in the value, their ``top`` largest kept, ties to the lower value) and ``best`` (values x
    articles: each value's ``depth`` best sellers by ``sales``, ties to the lower article, with their share
    of the value's sales). Both float32 CSR with sorted indices."""
    m = codes.size
    n_values = max(_n_values(codes), 1)
    a2v = sp.csr_matrix((np.ones(m, dtype=np.float32), (np.arange(m), codes)), shape=(m, n_values))
    share = sp.csr_matrix(rows @ a2v, dtype=np.float32)
    totals = np.asarray(share.sum(axis=1)).ravel()
    share = sp.csr_matrix(sp.diags(1.0 / np.maximum(totals, 1.0)).astype(np.float32) @ share)
    ids, values = csr_row_top_k(share, np.arange(share.shape[0]), top)
    kept = ids >= 0
    share = sp.csr_matrix((values[kept], (np.nonzero(kept)[0], ids[kept])), shape=share.shape, dtype=np.float32)
    share.sort_indices()
    sales = sales.astype(np.float64)
    value_sales = np.bincount(codes, weights=sales, minlength=n_values)
    sold = np.flatnonzero(sales > 0)
    order = sold[np.lexsort((sold, -sales[sold], codes[sold]))]
    start = np.searchsorted(codes[order], np.arange(n_values))
    position = np.arange(order.size) - start[codes[order]]
    keep = order[position < depth]
    best = sp.csr_matrix(
        ((sales[keep] / value_sales[codes[keep]]).astype(np.float32), (codes[keep], keep)), shape=(n_values, m)
    )
    best.sort_indices()
    return share, best


def novel_recall(
    rows: sp.csr_matrix, novel: sp.csr_matrix, codes: np.ndarray, sales: np.ndarray, *, n: int, top: int, depth: int
) -> float:
    """Recall of the pairs of ``novel`` by the taste source of ``codes`` at ``n`` candidates per customer
    (``rows`` and ``novel``: the same customers' rows before the week and their purchases in it that the
    other sources cannot find: articles new to them, outside the week's best sellers)."""
    share, best = taste_tables(rows, codes, sales, top=top, depth=depth)
    ids, _ = csr_row_top_k((share @ best).tocsr(), np.arange(rows.shape[0]), n)
    if novel.nnz == 0:
        return 0.0
    r, j = np.nonzero(ids >= 0)
    return float((csr_lookup(novel, r, ids[r, j]) > 0).sum()) / novel.nnz


#: the prior weights tried per key (its gain is the best): how far a customer's shares shrink toward the shop's
PRIORS = tuple(2.0**k for k in range(-2, 11))


def key_gain(rows: sp.csr_matrix, week: sp.csr_matrix, codes: np.ndarray, sales: np.ndarray) -> float:
    """How much the key of ``codes`` tells of the values a customer buys next: nats per purchase.

    A customer's next purchase falls in value ``v`` with their past share of it smoothed toward the shop's,
    ``p_c(v) = (n_c(v) + prior * p(v)) / (n_c + prior)``, where ``p(v)`` is ``v``'s share of recent sales;
    the gain is the mean of ``log(p_c(v) / p(v))`` over the (customer, article) pairs of ``week`` whose
    article the customer had not bought before (repurchases are the repurchase source's; taste is about what
    is new). Zero for a key with one value; positive when customers come back to the values they bought, more
    so the narrower those values are; a key too fine loses, since customers' pasts cover few of its values.
    """
    m = codes.size
    n_values = max(_n_values(codes), 1)
    c, a = week.nonzero()
    new = csr_lookup(rows, c, a) == 0
    c, a = c[new], a[new]
    if c.size == 0:
        return 0.0
    a2v = sp.csr_matrix((np.ones(m, dtype=np.float64), (np.arange(m), codes)), shape=(m, n_values))
    counts = sp.csr_matrix(rows @ a2v)
    n_c = np.asarray(counts.sum(axis=1)).ravel()
    s_v = np.bincount(codes, weights=sales.astype(np.float64), minlength=n_values)
    p_v = (s_v + 1.0) / (s_v.sum() + n_values)
    v = codes[a]
    own = csr_lookup(counts, c, v).astype(np.float64)
    return max(float(np.mean(np.log((own + w * p_v[v]) / ((n_c[c] + w) * p_v[v])))) for w in PRIORS)


def learn_keys(
    train: Dataset,
    cutoff: dt.date,
    *,
    first: dt.date | None = None,
    sample: int = 20_000,
    seed: int = 0,
    days: int = 28,
    beam: int = 4,
    shortlist: int = 12,
    n: int = 24,
    top: int = 5,
    depth: int = 30,
    kept: tuple[int, int, int] = KEPT_PER_SIZE,
) -> list[TasteKey]:
    """The taste keys of ``train`` (module docstring), scored on the week after ``cutoff`` with the data from
    ``first`` (None: all) to ``cutoff``. Empty when no column qualifies or nobody bought in that week."""
    columns = attribute_columns(train.articles)
    week = train.between(cutoff + dt.timedelta(days=1), cutoff + dt.timedelta(days=7)).interactions(binary=True)
    buyers = np.flatnonzero(np.diff(week.indptr))
    if not columns or buyers.size == 0:
        return []
    if buyers.size > sample:
        buyers = np.sort(np.random.default_rng(seed).choice(buyers, sample, replace=False))
    past = train.between(first, cutoff)
    rows = past.interactions()[buyers]
    truth = sp.csr_matrix(week[buyers])
    sales = article_sales(past, days=days)
    single = {column: attribute_codes(train.articles, [column]) for column in columns}

    gains: dict[tuple[str, ...], float] = {}
    codes_of: dict[tuple[str, ...], np.ndarray] = {}
    for column, codes in single.items():
        codes_of[(column,)] = codes
        gains[(column,)] = key_gain(rows, truth, codes, sales)
    for size in (2, 3):
        for parent in _best(gains, size - 1, beam):
            for column in columns:
                key = tuple(sorted({*parent, column}, key=columns.index))
                if len(key) != size or key in codes_of:
                    continue
                codes = attribute_codes_of(codes_of[parent], single[column])
                # no finer than one of its columns or its parent: that one is the same key, already scored
                if any(_n_values(codes) == _n_values(single[c]) for c in key) or (
                    _n_values(codes) == _n_values(codes_of[parent])
                ):
                    continue
                codes_of[key] = codes
                gains[key] = key_gain(rows, truth, codes, sales)
    # the source's key: among the most telling keys, the one whose candidates find most of what is new
    week_sales = article_sales(past, days=7)
    best_sellers = np.argsort(-week_sales, kind="stable")[:n]
    c, a = truth.nonzero()
    new = (csr_lookup(rows, c, a) == 0) & ~np.isin(a, best_sellers)
    novel = sp.csr_matrix((np.ones(int(new.sum()), dtype=np.float32), (c[new], a[new])), shape=truth.shape)
    recall = {
        key: novel_recall(rows, novel, codes_of[key], week_sales, n=n, top=top, depth=depth)
        for key in sorted(gains, key=lambda k: (-gains[k], k))[:shortlist]
    }
    chosen = [min(recall, key=lambda k: (-recall[k], -gains[k], k))]
    for size, count in zip((1, 2, 3), kept, strict=True):
        chosen += [k for k in _best(gains, size, count + 1) if k not in chosen][:count]
    return [
        TasteKey(key, gains[key], recall.get(key, float("nan")), _n_values(codes_of[key]))
        for key in chosen[:TASTE_SLOTS]
    ]


def _best(gains: dict[tuple[str, ...], float], size: int, count: int) -> list[tuple[str, ...]]:
    keys = [k for k in gains if len(k) == size]
    return sorted(keys, key=lambda k: (-gains[k], k))[:count]
