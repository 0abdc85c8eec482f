"""Features of the ranker (stage 2): of the customer, of the article and of the (customer, article) pair.

:class:`FeatureTables` is computed once per cut-off from the transactions *up to and including* that day
(it truncates the data it is given at ``cutoff`` itself, so nothing after the cut-off can reach a feature:
``tests/ranking/test_features.py`` checks that features from truncated data equal features from the full
data with the cut-off given). Everything is a polars group-by or a numpy gather; nothing loops over customers.

Days are counted back from the cut-off: a purchase on the cut-off day is 0 days old. Missing values (a
customer who never bought, an article never sold) are NaN, which LightGBM treats as missing.

Customer features (one row per customer): ``age``, purchase rows over all / the last 7 / the last 28 days,
days since the last and the first purchase, the online share (channel 2), the mean price paid, distinct
articles bought, the share of the customer's rows in each of the five largest values of the best single-column
taste key (their mix), and the share of their rows that rebuy a product they had bought on an earlier day
(how much they come back to what they own).

Article features (one row per article): days since its first sale, sales on the last day / 7 / 28 days and
overall, the trend (``s7 / (s_prev7 + 1)``), the mean price of its last 28 days of sales (else of all of
them), the mean age of its buyers, its product's sales over 7 days (all colours), and its share of the
7-day sales of its value of the first taste key.

Pair features: times the customer bought the article, their time-decayed count, days since they last bought
it and since they last bought its product, their rows of its product, how many other articles (products)
they bought more recently than it (its product): rebuys follow the latest purchases, the ALS dot product
(when the ``als`` source is used), the co-purchase strength (when ``copurchase`` is), the article's price
over the customer's mean price, the distance between the customer's age and the article's buyers' mean age,
the customer's share of rows in the article's value of each taste key learned from the data
(:mod:`hmrec.ranking.taste`; ``p_taste0_share`` is the taste source's key): their taste; and from the
candidate union, for every source its rank and its score (NaN when that source did not propose the pair) and
the number of sources that did. No column of the articles file is named here: which columns carry taste is
learned at fit time, so relabelling or permuting them changes nothing the ranker can learn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from hmrec.data.dataset import Dataset
from hmrec.data.schema import ARTICLE_IDX, CUSTOMER_IDX, PRICE, SALES_CHANNEL, T_DAT
from hmrec.models.lists import sorted_lookup
from hmrec.ranking.candidates import Candidates
from hmrec.ranking.sources import OWN_HALF_LIFE_DAYS, SOURCES, Source, product_codes
from hmrec.ranking.taste import TASTE_SLOTS, attribute_codes

#: the customer's mix over this many largest values of the best single-column taste key
TOP_MIX_VALUES = 5

CUSTOMER_FEATURES = (
    "c_age", "c_rows", "c_rows_7d", "c_rows_28d", "c_days_since_last", "c_days_since_first",
    "c_online_share", "c_mean_price", "c_articles",
    *(f"c_mix_share_{i}" for i in range(TOP_MIX_VALUES)),
    "c_rebuy_share",
)
ARTICLE_FEATURES = (
    "a_days_since_first", "a_sales_1d", "a_sales_7d", "a_sales_28d", "a_sales", "a_trend", "a_price",
    "a_buyer_age", "a_product_sales_7d", "a_taste_share_7d",
)
#: the customer's share of rows in the article's value of each learned taste key, best key first
SHARES = tuple(f"p_taste{i}_share" for i in range(TASTE_SLOTS))
#: the pair features the sources compute themselves (``Source.pair_feature``), in registry order
SOURCE_PAIR_FEATURES = tuple(cls.pair_feature for cls in SOURCES.values() if cls.pair_feature)
PAIR_FEATURES = (
    "p_times_bought", "p_decayed", "p_days_since_bought", "p_days_since_product", "p_product_rows",
    "p_own_order", "p_product_order", *SOURCE_PAIR_FEATURES, "p_price_ratio", "p_age_gap", *SHARES,
)
#: feature families for the ablation (``ranker`` parameter ``drop_features``)
FAMILIES = ("customer", "article", "pair", "source")


def feature_names(sources: list[str]) -> list[str]:
    """Every feature's name, in column order, for a ranker with ``sources``."""
    source_cols = [f"s_{name}_{what}" for name in sources for what in ("rank", "score")]
    return [*CUSTOMER_FEATURES, *ARTICLE_FEATURES, *PAIR_FEATURES, *source_cols, "s_count"]


def family_of(name: str) -> str:
    return {"c": "customer", "a": "article", "p": "pair", "s": "source"}[name[0]]


def _day(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Int32)


def _scatter(n: int, idx: pl.Series, values: pl.Series, fill: float = np.nan) -> np.ndarray:
    out = np.full(n, fill, dtype=np.float32)
    out[idx.to_numpy()] = values.cast(pl.Float32).fill_null(np.nan).to_numpy()
    return out


def _stack(columns: Mapping[str, np.ndarray], names: Sequence[str], missing: np.ndarray | None = None) -> np.ndarray:
    """The named columns in the declared order of ``names`` (float32); a name without a column takes
    ``missing`` (only where the feature may be absent: a source's own pair feature)."""
    if missing is None and set(columns) != set(names):
        raise ValueError(f"features computed {sorted(set(columns) ^ set(names))} differ from those declared")
    if not names:
        return np.zeros((0, 0), dtype=np.float32)
    fill = np.zeros(0, dtype=np.float32) if missing is None else missing  # None: every name has its column
    return np.column_stack([columns.get(name, fill) for name in names]).astype(np.float32)


class PairTable:
    """Values keyed by ``row * width + col`` (int64, sorted) with a vectorized look-up."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, width: int) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order].astype(np.int64)
        self.values = values[order]
        self.width = int(width)

    def lookup(self, rows: np.ndarray, cols: np.ndarray, fill: float = np.nan) -> np.ndarray:
        return sorted_lookup(self.keys, self.values, rows.astype(np.int64) * self.width + cols, fill)


class FeatureTables:
    """Customer, article and pair look-up tables at one cut-off (see the module docstring)."""

    customer: np.ndarray  # (n_customers, len(CUSTOMER_FEATURES)) float32
    article: np.ndarray  # (n_articles, len(ARTICLE_FEATURES)) float32
    own: PairTable  # (customer, article) -> [times bought, decayed count, days since bought]
    product: PairTable  # (customer, product) -> [days since bought, rows]
    shares: dict[str, PairTable]  # feature -> (customer, attribute value) -> share of the customer's rows
    attr_of: dict[str, np.ndarray]  # feature -> per article its attribute value (dense codes)
    product_of: np.ndarray

    @classmethod
    def fit(
        cls, data: Dataset, cutoff: dt.date, first: dt.date | None = None, keys: Sequence[Sequence[str]] = ()
    ) -> FeatureTables:
        """Tables from the transactions of ``data`` on or before ``cutoff`` (later ones are ignored), and on
        or after ``first`` when given; ``keys`` are the learned taste keys, best first (the share features of
        slots beyond them see one value for every article)."""
        self = cls()
        tx = data.transactions.lazy().filter(pl.col(T_DAT) <= cutoff)
        if first is not None:
            tx = tx.filter(pl.col(T_DAT) >= first)
        end = int(pl.Series([cutoff]).cast(pl.Int32)[0])
        tx = tx.with_columns((pl.lit(end, dtype=pl.Int32) - _day(pl.col(T_DAT))).alias("age_d"))
        n_c, n_a = data.n_customers, data.n_articles
        self.product_of = product_codes(data)
        self.attr_of = {
            feature: attribute_codes(data.articles, keys[i] if i < len(keys) else ())
            for i, feature in enumerate(SHARES)
        }
        singles = [key for key in keys if len(key) == 1]
        mix_of = attribute_codes(data.articles, singles[0] if singles else ())
        frame = tx.collect()
        arts = frame[ARTICLE_IDX].to_numpy()
        frame = frame.with_columns(
            pl.Series("product", self.product_of[arts]),
            *(pl.Series(feature, codes[arts]) for feature, codes in self.attr_of.items()),
            pl.Series("mix", mix_of[arts]),
        )
        if "age" in data.customers.columns:
            ages = data.customers["age"].cast(pl.Float32).fill_null(np.nan).to_numpy()
        else:
            ages = np.full(n_c, np.nan, dtype=np.float32)
        self.customer = self._customer_table(frame, ages, n_c)
        self.article = self._article_table(frame, ages, n_a)
        self._pair_tables(frame, n_c, n_a)
        return self

    # ------------------------------------------------------------------ tables
    @staticmethod
    def _customer_table(frame: pl.DataFrame, ages: np.ndarray, n_c: int) -> np.ndarray:
        per = frame.group_by(CUSTOMER_IDX).agg(
            pl.len().alias("rows"),
            (pl.col("age_d") < 7).sum().alias("rows_7d"),
            (pl.col("age_d") < 28).sum().alias("rows_28d"),
            pl.col("age_d").min().alias("since_last"),
            pl.col("age_d").max().alias("since_first"),
            (pl.col(SALES_CHANNEL) == 2).mean().alias("online"),
            pl.col(PRICE).mean().alias("price"),
            pl.col(ARTICLE_IDX).n_unique().alias("articles"),
        )
        idx = per[CUSTOMER_IDX]
        cols: dict[str, np.ndarray] = {
            "c_age": ages.astype(np.float32),
            "c_rows": _scatter(n_c, idx, per["rows"], fill=0.0),
            "c_rows_7d": _scatter(n_c, idx, per["rows_7d"], fill=0.0),
            "c_rows_28d": _scatter(n_c, idx, per["rows_28d"], fill=0.0),
            "c_days_since_last": _scatter(n_c, idx, per["since_last"]),
            "c_days_since_first": _scatter(n_c, idx, per["since_first"]),
            "c_online_share": _scatter(n_c, idx, per["online"]),
            "c_mean_price": _scatter(n_c, idx, per["price"]),
            "c_articles": _scatter(n_c, idx, per["articles"], fill=0.0),
        }
        # the customer's mix over the largest values (by rows) of the best single-column taste key
        top = frame.group_by("mix").agg(pl.len()).sort(["len", "mix"], descending=[True, False])
        groups = top["mix"].to_list()[:TOP_MIX_VALUES]
        mix = (
            frame.filter(pl.col("mix").is_in(groups))
            .group_by(CUSTOMER_IDX, "mix")
            .agg(pl.len().alias("n"))
            .join(per.select(CUSTOMER_IDX, "rows"), on=CUSTOMER_IDX)
        )
        for i in range(TOP_MIX_VALUES):
            share = np.zeros(n_c, dtype=np.float32)
            if i < len(groups):
                part = mix.filter(pl.col("mix") == groups[i])
                share[part[CUSTOMER_IDX].to_numpy()] = (part["n"] / part["rows"]).cast(pl.Float32).to_numpy()
            cols[f"c_mix_share_{i}"] = share
        # rows of a product after the customer's first day with it (the rows of that first day are not rebuys)
        rebuys = (
            frame.group_by(CUSTOMER_IDX, "product")
            .agg((pl.col("age_d") < pl.col("age_d").max()).sum().alias("rebuys"))
            .group_by(CUSTOMER_IDX)
            .agg(pl.col("rebuys").sum())
            .join(per.select(CUSTOMER_IDX, "rows"), on=CUSTOMER_IDX)
        )
        cols["c_rebuy_share"] = _scatter(n_c, rebuys[CUSTOMER_IDX], rebuys["rebuys"] / rebuys["rows"])
        return _stack(cols, CUSTOMER_FEATURES)

    def _article_table(self, frame: pl.DataFrame, ages: np.ndarray, n_a: int) -> np.ndarray:
        with_age = frame.with_columns(pl.Series("c_age", ages[frame[CUSTOMER_IDX].to_numpy()]))
        per = with_age.group_by(ARTICLE_IDX).agg(
            pl.col("age_d").max().alias("first"),
            (pl.col("age_d") < 1).sum().alias("s1"),
            (pl.col("age_d") < 7).sum().alias("s7"),
            ((pl.col("age_d") >= 7) & (pl.col("age_d") < 14)).sum().alias("sp7"),
            (pl.col("age_d") < 28).sum().alias("s28"),
            pl.len().alias("s"),
            pl.col(PRICE).filter(pl.col("age_d") < 28).mean().alias("price28"),
            pl.col(PRICE).mean().alias("price"),
            pl.col("c_age").fill_nan(None).mean().alias("buyer_age"),
        )
        idx = per[ARTICLE_IDX]
        first = _scatter(n_a, idx, per["first"])
        s1, s7, s28, s = (_scatter(n_a, idx, per[c], fill=0.0) for c in ("s1", "s7", "s28", "s"))
        sp7 = _scatter(n_a, idx, per["sp7"], fill=0.0)
        price = _scatter(n_a, idx, per["price28"].fill_null(per["price"]))
        buyer_age = _scatter(n_a, idx, per["buyer_age"])
        product_s7 = np.bincount(self.product_of, weights=s7, minlength=int(self.product_of.max(initial=0)) + 1)
        sub_of = self.attr_of[SHARES[0]]
        sub_s7 = np.bincount(sub_of, weights=s7, minlength=int(sub_of.max(initial=0)) + 1)[sub_of]
        sub_share = np.divide(s7, sub_s7, out=np.zeros(n_a), where=sub_s7 > 0)
        return _stack({
            "a_days_since_first": first, "a_sales_1d": s1, "a_sales_7d": s7, "a_sales_28d": s28, "a_sales": s,
            "a_trend": s7 / (sp7 + 1.0), "a_price": price, "a_buyer_age": buyer_age,
            "a_product_sales_7d": product_s7[self.product_of], "a_taste_share_7d": sub_share,
        }, ARTICLE_FEATURES)

    def _pair_tables(self, frame: pl.DataFrame, n_c: int, n_a: int) -> None:
        decay = pl.lit(0.5).pow(pl.col("age_d").cast(pl.Float64) / OWN_HALF_LIFE_DAYS)
        # order: how many of the customer's other articles (products) were last bought more recently
        order = (pl.col("since").rank("min").over(CUSTOMER_IDX) - 1).alias("order")
        own = frame.group_by(CUSTOMER_IDX, ARTICLE_IDX).agg(
            pl.len().alias("n"), decay.sum().alias("w"), pl.col("age_d").min().alias("since")
        ).with_columns(order)
        self.own = PairTable(
            own[CUSTOMER_IDX].to_numpy().astype(np.int64) * n_a + own[ARTICLE_IDX].to_numpy(),
            own.select(pl.col("n", "w", "since", "order").cast(pl.Float32)).to_numpy(),
            n_a,
        )
        n_p = int(self.product_of.max(initial=0)) + 1
        prod = frame.group_by(CUSTOMER_IDX, "product").agg(
            pl.col("age_d").min().alias("since"), pl.len().alias("n")
        ).with_columns(order)
        self.product = PairTable(
            prod[CUSTOMER_IDX].to_numpy().astype(np.int64) * n_p + prod["product"].to_numpy(),
            prod.select(pl.col("since", "n", "order").cast(pl.Float32)).to_numpy(),
            n_p,
        )
        self.shares = {}
        for feature, codes in self.attr_of.items():
            width = int(codes.max(initial=0)) + 1
            share = (
                frame.group_by(CUSTOMER_IDX, feature)
                .agg(pl.len().alias("n"))
                .with_columns((pl.col("n") / pl.col("n").sum().over(CUSTOMER_IDX)).alias("share"))
            )
            self.shares[feature] = PairTable(
                share[CUSTOMER_IDX].to_numpy().astype(np.int64) * width + share[feature].to_numpy(),
                share["share"].cast(pl.Float32).to_numpy(),
                width,
            )

    # ------------------------------------------------------------------ the feature matrix
    def matrix(
        self, customers: np.ndarray, cands: Candidates, sources: Mapping[str, Source]
    ) -> np.ndarray:
        """The ``(len(cands), len(feature_names(cands.sources)))`` float32 feature matrix.

        ``customers`` are the customer indices the candidates' ``row`` refers to; ``sources`` the fitted
        sources (the ``als`` and ``copurchase`` ones, when present, give the pair features of their own).
        """
        cust = np.asarray(customers, dtype=np.int64)[cands.row]
        art = cands.article.astype(np.int64)
        c_feat = self.customer[cust]
        a_feat = self.article[art]
        c = dict(zip(CUSTOMER_FEATURES, c_feat.T, strict=True))
        a = dict(zip(ARTICLE_FEATURES, a_feat.T, strict=True))
        own = self.own.lookup(cust, art)
        prod = self.product.lookup(cust, self.product_of[art])
        pair: dict[str, np.ndarray] = {
            "p_times_bought": np.nan_to_num(own[:, 0], nan=0.0),
            "p_decayed": np.nan_to_num(own[:, 1], nan=0.0),
            "p_days_since_bought": own[:, 2],
            "p_own_order": own[:, 3],
            "p_days_since_product": prod[:, 0],
            "p_product_rows": np.nan_to_num(prod[:, 1], nan=0.0),
            "p_product_order": prod[:, 2],
            "p_price_ratio": a["a_price"] / c["c_mean_price"],
            "p_age_gap": np.abs(c["c_age"] - a["a_buyer_age"]),
        }
        for feature, table in self.shares.items():
            pair[feature] = table.lookup(cust, self.attr_of[feature][art], fill=0.0)
        for source in sources.values():
            if source.pair_feature:  # a source's own view of the pair (NaN when the ranker does not use it)
                pair[source.pair_feature] = source.pair_values(np.asarray(customers, dtype=np.int64), cands)
        missing = np.full(art.size, np.nan, dtype=np.float32)
        p_feat = _stack(pair, PAIR_FEATURES, missing=missing)
        s_cols = np.empty((art.size, 2 * len(cands.sources)), dtype=np.float32)
        s_cols[:, 0::2] = cands.rank
        s_cols[:, 1::2] = cands.score
        count = cands.proposed.sum(axis=1, dtype=np.int32).astype(np.float32)[:, None]
        return np.hstack([c_feat, a_feat, p_feat.astype(np.float32), s_cols, count])

    # ------------------------------------------------------------------ state for saving
    def state(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {
            "customer": self.customer, "article": self.article, "product_of": self.product_of,
        }
        tables = {"own": self.own, "product": self.product, **self.shares}
        for feature, codes in self.attr_of.items():
            out[f"{feature}_of"] = codes
        for name, table in tables.items():
            out[f"{name}_keys"] = table.keys
            out[f"{name}_values"] = table.values
            out[f"{name}_width"] = np.array(table.width)
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FeatureTables:
        self = cls()
        self.customer = state["customer"]
        self.article = state["article"]
        self.product_of = state["product_of"]
        self.attr_of = {feature: state[f"{feature}_of"] for feature in SHARES}
        self.shares = {}
        for name in ("own", "product", *SHARES):
            table = PairTable.__new__(PairTable)
            table.keys = state[f"{name}_keys"]
            table.values = state[f"{name}_values"]
            table.width = int(state[f"{name}_width"])
            if name in SHARES:
                self.shares[name] = table
            else:
                setattr(self, name, table)
        return self


def check_table_state(
    state: Mapping[str, np.ndarray], n_customers: int, n_articles: int, fail: Callable[[str], Exception]
) -> None:
    """Saved tables (:meth:`FeatureTables.state`) against their bounds, before :meth:`FeatureTables.from_state`
    and the look-ups trust them; ``fail(problem)`` is raised on the first that is out of bounds.

    Found by name, whichever tables there are: every ``<name>_keys`` with its ``<name>_values`` and
    ``<name>_width`` is a :class:`PairTable` keyed by customer (int64 keys, sorted without repeats, from 0 to
    below ``width * n_customers``; float32 values, one row per key; a width from 1 to ``n_articles``); every
    ``<name>_of`` holds one code per article for the columns of table ``<name>``, each below its width; a
    table without codes is keyed by article, so its width is ``n_articles``.
    """
    for name, rows, columns in (("customer", n_customers, CUSTOMER_FEATURES),
                                ("article", n_articles, ARTICLE_FEATURES)):
        table = state.get(name)
        if table is None or table.dtype != np.float32 or table.shape != (rows, len(columns)):
            raise fail(f"array '{name}' is not a float32 table of {rows} rows and {len(columns)} features")
    if "product_of" not in state:
        raise fail("array 'product_of' is missing")
    widths: dict[str, int] = {}
    for key in sorted(k for k in state if k.endswith("_keys")):
        name = key[: -len("_keys")]
        saved = state.get(f"{name}_width")
        if saved is None or saved.shape != () or saved.dtype.kind not in "iu" or not 1 <= int(saved) <= n_articles:
            raise fail(f"array '{name}_width' is not a width between 1 and {n_articles}")
        widths[name] = int(saved)
    for key in sorted(k for k in state if k.endswith("_values") or k.endswith("_width")):
        if key.rsplit("_", 1)[0] not in widths:
            raise fail(f"array '{key}' belongs to no table (its '_keys' are missing)")
    coded: set[str] = set()
    for key in sorted(k for k in state if k.endswith("_of")):
        name, codes = key[: -len("_of")], state[key]
        if name not in widths:
            raise fail(f"array '{key}' codes the columns of a table that is missing ('{name}_keys')")
        if codes.shape != (n_articles,) or codes.dtype.kind not in "iu":
            raise fail(f"array '{key}' is not one integer code per article ({n_articles})")
        if codes.size and (codes.min() < 0 or codes.max() >= widths[name]):
            raise fail(f"array '{key}' holds codes outside the width {widths[name]} of '{name}'")
        coded.add(name)
    for name in sorted(set(widths) - coded):
        if widths[name] != n_articles:
            raise fail(f"array '{name}_width' is {widths[name]}, not the {n_articles} articles its columns are")
    for name, width in sorted(widths.items()):
        keys, values = state[f"{name}_keys"], state.get(f"{name}_values")
        if keys.ndim != 1 or keys.dtype != np.int64:
            raise fail(f"array '{name}_keys' is not a list of int64 keys")
        if keys.size and (keys[0] < 0 or keys[-1] >= width * n_customers or np.any(np.diff(keys) <= 0)):
            raise fail(f"array '{name}_keys' is not sorted keys from 0 to below {width} x {n_customers} customers")
        if values is None or values.dtype != np.float32 or values.ndim not in (1, 2) or len(values) != keys.size:
            raise fail(f"array '{name}_values' is not float32 values, one per entry of '{name}_keys'")
