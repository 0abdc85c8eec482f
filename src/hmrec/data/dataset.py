"""The Dataset: id maps, typed frames and the customers x articles matrix, built once.

Inside hmrec customers and articles are int32 indices: ``customer_idx`` is the row of the customer in
customers.csv and ``article_idx`` the row of the article in articles.csv (0-based), so indices are stable
for a given set of files. Public ids (64-hex customer ids, 10-digit article ids) appear only at the edges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from hmrec.data.schema import (
    ARTICLE_ID,
    ARTICLE_ID_DIGITS,
    ARTICLE_IDX,
    ARTICLES_SCHEMA,
    CUSTOMER_ID,
    CUSTOMER_IDX,
    CUSTOMERS_SCHEMA,
    PRICE,
    SALES_CHANNEL,
    T_DAT,
    TRANSACTIONS_SCHEMA,
)
from hmrec.errors import DataError, UnknownCustomerError


@dataclass(frozen=True, eq=False)
class Dataset:
    """Articles, customers and transactions with their id maps.

    Attributes:
        articles: one row per article, ``article_idx`` (= row number) first, then the articles.csv columns.
        customers: one row per customer, ``customer_idx`` (= row number) first, then the customers.csv columns.
        transactions: ``t_dat`` (Date), ``customer_idx``, ``article_idx`` (Int32), ``price`` (Float32),
            ``sales_channel_id`` (Int8), in file order. A window of a Dataset shares everything but this.
        fingerprint: identifies the source files (a hash of their names, sizes and contents' stamps); saved
            models record it to refuse being applied to other data.
        source: the data directory the files were read from, if any (the generator's truth lives there).
    """

    articles: pl.DataFrame
    customers: pl.DataFrame
    transactions: pl.DataFrame
    fingerprint: str = ""
    source: Path | None = None
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(
        cls,
        articles: pl.DataFrame,
        customers: pl.DataFrame,
        transactions: pl.DataFrame,
        *,
        source: Path | None = None,
        fingerprint: str | None = None,
    ) -> Dataset:
        """Build a Dataset from frames keyed by public ids (as read from the CSVs).

        ``transactions`` has ``t_dat`` (Date or YYYY-MM-DD string), ``customer_id``, ``article_id``, ``price``
        and ``sales_channel_id``. Indices follow the row order of ``articles`` and ``customers``. Transactions
        whose customer or article is unknown raise :class:`DataError`.
        """
        articles = articles.with_columns(
            pl.col(ARTICLE_ID).cast(pl.String).str.zfill(ARTICLE_ID_DIGITS)
        ).with_row_index(ARTICLE_IDX)
        customers = customers.with_row_index(CUSTOMER_IDX)
        articles = articles.select(
            [pl.col(c).cast(t) for c, t in ARTICLES_SCHEMA.items() if c in articles.columns]
        )
        customers = customers.select(
            [pl.col(c).cast(t) for c, t in CUSTOMERS_SCHEMA.items() if c in customers.columns]
        )
        tx = transactions.with_columns(pl.col(ARTICLE_ID).cast(pl.String).str.zfill(ARTICLE_ID_DIGITS))
        if tx.schema[T_DAT] == pl.String:
            tx = tx.with_columns(pl.col(T_DAT).str.to_date("%Y-%m-%d"))
        tx = (
            tx.with_row_index("_row")
            .join(customers.select(CUSTOMER_ID, CUSTOMER_IDX), on=CUSTOMER_ID, how="left")
            .join(articles.select(ARTICLE_ID, ARTICLE_IDX), on=ARTICLE_ID, how="left")
            .sort("_row")
        )
        for idx_col, id_col, other in (
            (CUSTOMER_IDX, CUSTOMER_ID, "customers"),
            (ARTICLE_IDX, ARTICLE_ID, "articles"),
        ):
            missing = tx.filter(pl.col(idx_col).is_null())
            if missing.height:
                row = int(missing["_row"][0]) + 1
                raise DataError(
                    f"{missing.height} transactions reference a {id_col} not in {other} "
                    f"(first: {missing[id_col][0]})",
                    file="transactions",
                    column=id_col,
                    row=row,
                    fix=f"add the missing rows to {other} or drop those transactions",
                )
        tx = tx.select([pl.col(c).cast(t) for c, t in TRANSACTIONS_SCHEMA.items()])
        if fingerprint is None:
            digest = hashlib.sha256()
            for frame in (articles, customers, tx):
                digest.update(str(frame.shape).encode())
                total = int(frame.hash_rows(seed=0).sum()) % (1 << 64) if frame.height else 0
                digest.update(total.to_bytes(8, "little"))
            fingerprint = digest.hexdigest()[:16]
        return cls(
            articles=articles, customers=customers, transactions=tx, fingerprint=fingerprint, source=source
        )

    # ------------------------------------------------------------------ sizes and dates
    @property
    def n_customers(self) -> int:
        return self.customers.height

    @property
    def n_articles(self) -> int:
        return self.articles.height

    @property
    def n_transactions(self) -> int:
        return self.transactions.height

    @property
    def start_date(self) -> dt.date | None:
        """First transaction day, or None when there are no transactions."""
        value = self.transactions[T_DAT].min()
        return value if isinstance(value, dt.date) else None

    @property
    def end_date(self) -> dt.date | None:
        """Last transaction day, or None when there are no transactions."""
        value = self.transactions[T_DAT].max()
        return value if isinstance(value, dt.date) else None

    # ------------------------------------------------------------------ slicing
    def between(self, start: dt.date | None = None, end: dt.date | None = None) -> Dataset:
        """The same customers and articles with the transactions of ``start <= t_dat <= end`` only."""
        expr = pl.lit(True)
        if start is not None:
            expr = expr & (pl.col(T_DAT) >= start)
        if end is not None:
            expr = expr & (pl.col(T_DAT) <= end)
        return replace(self, transactions=self.transactions.filter(expr), _memo={})

    # ------------------------------------------------------------------ id maps
    @property
    def article_ids(self) -> np.ndarray:
        """article_idx -> 10-digit article id (object array)."""
        if "article_ids" not in self._memo:
            self._memo["article_ids"] = self.articles[ARTICLE_ID].to_numpy()
        return self._memo["article_ids"]

    @property
    def customer_ids(self) -> np.ndarray:
        """customer_idx -> 64-hex customer id (object array)."""
        if "customer_ids" not in self._memo:
            self._memo["customer_ids"] = self.customers[CUSTOMER_ID].to_numpy()
        return self._memo["customer_ids"]

    def customer_index(self, ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Public customer ids -> customer_idx (int32); an unknown id raises UnknownCustomerError."""
        return self._index(ids, self.customers, CUSTOMER_ID, CUSTOMER_IDX, "customer")

    def article_index(self, ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Article ids (with or without the leading zero) -> article_idx (int32)."""
        padded = pl.Series(ARTICLE_ID, list(ids), dtype=pl.String).str.zfill(ARTICLE_ID_DIGITS)
        return self._index(padded, self.articles, ARTICLE_ID, ARTICLE_IDX, "article")

    @staticmethod
    def _index(
        ids: Sequence[str] | np.ndarray | pl.Series, frame: pl.DataFrame, id_col: str, idx_col: str, what: str
    ) -> np.ndarray:
        query = pl.DataFrame({id_col: pl.Series(id_col, list(ids), dtype=pl.String)})
        found = query.join(frame.select(id_col, idx_col), on=id_col, how="left", maintain_order="left")
        missing = found.filter(pl.col(idx_col).is_null())
        if missing.height:
            raise UnknownCustomerError(
                f"unknown {what} id '{missing[id_col][0]}' (fix: use an id from the {what}s file)"
            )
        return found[idx_col].to_numpy().astype(np.int32)

    # ------------------------------------------------------------------ matrices
    def interactions(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        half_life_days: float | None = None,
        reference: dt.date | None = None,
        binary: bool = False,
    ) -> sp.csr_matrix:
        """Customers x articles CSR (float32) over ``start <= t_dat <= end``.

        A cell is the number of purchase rows (or 1 with ``binary``). With ``half_life_days`` each purchase
        counts ``0.5 ** (age_days / half_life_days)``, age measured back from ``reference`` (default: the last
        day of the window), so recent purchases count more. The result is memoized: build it once, reuse it.
        """
        key = ("interactions", start, end, half_life_days, reference, binary)
        if key in self._memo:
            return self._memo[key]
        tx = self.between(start, end).transactions if (start or end) else self.transactions
        rows = tx[CUSTOMER_IDX].to_numpy()
        cols = tx[ARTICLE_IDX].to_numpy()
        if half_life_days is not None and tx.height:
            ref = reference or tx[T_DAT].max()
            age = (
                tx.select((pl.lit(ref, dtype=pl.Date) - pl.col(T_DAT)).dt.total_days()).to_series().to_numpy()
            )
            data = np.power(0.5, age / float(half_life_days)).astype(np.float32).astype(np.float64)
        else:
            data = np.ones(tx.height, dtype=np.float64)
        # the float32 weights of a cell are summed in float64 and rounded once: a sum that does not depend
        # on the order of the rows (float32 running sums do), so that any engine that sums them finds the
        # same cell, whose order ranks articles
        matrix = sp.csr_matrix(
            (data, (rows, cols)), shape=(self.n_customers, self.n_articles), dtype=np.float64
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        matrix = matrix.astype(np.float32)
        if binary:
            matrix.data[:] = 1.0
        self._memo[key] = matrix
        return matrix

    def summary(self) -> dict[str, Any]:
        """Rows, customers, articles and the date range, for printing."""
        return {
            "transactions": self.n_transactions,
            "customers": self.n_customers,
            "articles": self.n_articles,
            "buying_customers": int(self.transactions[CUSTOMER_IDX].n_unique()) if self.n_transactions else 0,
            "sold_articles": int(self.transactions[ARTICLE_IDX].n_unique()) if self.n_transactions else 0,
            "start_date": str(self.start_date) if self.start_date else None,
            "end_date": str(self.end_date) if self.end_date else None,
        }


__all__ = ["Dataset", "PRICE", "SALES_CHANNEL"]
