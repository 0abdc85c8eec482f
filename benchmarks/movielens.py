"""MovieLens 100K recast as H&M files: movies -> articles, users -> customers, ratings -> transactions.

Usage: python benchmarks/movielens.py SOURCE OUT [--min-rating 4]

``SOURCE`` is a directory or a wheel holding RecBole's atomic files of MovieLens 100K
(``ml-100k.inter``, ``ml-100k.item``, ``ml-100k.user``; RecBole's wheel ships them under
``recbole/dataset_example/ml-100k``: ``pip download --no-deps recbole==1.2.1 -d DIR`` fetches it without
installing anything). ``OUT`` gets ``articles.csv``, ``customers.csv`` and ``transactions_train.csv`` in the
competition's schema, which every hmrec command reads:

* a movie is an article: ``article_id`` its id zero-padded to 10 digits, ``prod_name`` its title, the product
  type its first genre and the department its release year; the other article columns get a placeholder;
* a user is a customer: ``customer_id`` the SHA-256 of ``ml-100k/<user id>`` (64 hex characters), ``age`` the
  user's age, ``postal_code`` the SHA-256 of the zip code;
* a rating of at least ``--min-rating`` stars is a purchase on the (UTC) day of its timestamp, price 0.01,
  sales channel 1: implicit feedback, as a like (the default 4 keeps the ratings that say "liked").
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import polars as pl

from hmrec.atomic import atomic_file
from hmrec.data.schema import ARTICLE_COLUMNS, ARTICLE_INT_COLUMNS, CUSTOMER_COLUMNS

PREFIX = "recbole/dataset_example/ml-100k/"
FILES = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")


def read_atomic(source: Path) -> dict[str, pl.DataFrame]:
    """The three atomic files (tab-separated, headers ``name:type``) as frames with plain column names."""
    raw: dict[str, bytes] = {}
    if source.is_dir():
        for name in FILES:
            raw[name] = (source / name).read_bytes()
    else:
        with zipfile.ZipFile(source) as wheel:
            for name in FILES:
                raw[name] = wheel.read(PREFIX + name)
    frames = {}
    for name, data in raw.items():
        frame = pl.read_csv(io.BytesIO(data), separator="\t", infer_schema=False, quote_char=None)
        frames[name] = frame.rename({c: c.split(":")[0] for c in frame.columns})
    return frames


def _sha(prefix: str, column: str) -> pl.Expr:
    return pl.col(column).map_elements(lambda v: hashlib.sha256(f"{prefix}{v}".encode()).hexdigest(),
                                       return_dtype=pl.String)


def convert(source: Path, out: Path, min_rating: float = 4.0) -> dict[str, int]:
    """Write the three H&M files of MovieLens 100K into ``out``; returns the row counts."""
    frames = read_atomic(source)
    items, users, inter = frames["ml-100k.item"], frames["ml-100k.user"], frames["ml-100k.inter"]
    article_id = pl.col("item_id").cast(pl.Int64).cast(pl.String).str.zfill(10)
    genre = pl.col("class").str.split(" ").list.first().fill_null("Unknown")
    filled = {
        "article_id": article_id,
        "product_code": pl.col("item_id").cast(pl.Int64),
        "prod_name": pl.col("movie_title").fill_null("Unknown"),
        "product_type_name": genre,
        "department_name": pl.col("release_year").fill_null("Unknown"),
    }
    articles = items.select(
        [filled[c].alias(c) if c in filled else (pl.lit(0) if c in ARTICLE_INT_COLUMNS else pl.lit("Unknown"))
         .alias(c) for c in ARTICLE_COLUMNS]
    )
    customers = users.select(
        _sha("ml-100k/", "user_id").alias("customer_id"),
        pl.lit(None, dtype=pl.Float64).alias("FN"),
        pl.lit(None, dtype=pl.Float64).alias("Active"),
        pl.lit("ACTIVE").alias("club_member_status"),
        pl.lit("NONE").alias("fashion_news_frequency"),
        pl.col("age").cast(pl.Int64).alias("age"),
        _sha("zip/", "zip_code").alias("postal_code"),
    ).select(CUSTOMER_COLUMNS)
    transactions = (
        inter.filter(pl.col("rating").cast(pl.Float64) >= min_rating)
        .select(
            pl.from_epoch(pl.col("timestamp").cast(pl.Float64).cast(pl.Int64), time_unit="s").dt.date()
            .alias("t_dat"),
            _sha("ml-100k/", "user_id").alias("customer_id"),
            article_id.alias("article_id"),
            pl.lit(0.01).alias("price"),
            pl.lit(1).alias("sales_channel_id"),
        )
        .sort("t_dat", "customer_id", "article_id")
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("articles.csv", articles), ("customers.csv", customers),
                        ("transactions_train.csv", transactions)):
        with atomic_file(out / name) as handle:
            frame.write_csv(handle)
    return {"articles": articles.height, "customers": customers.height, "transactions": transactions.height}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--min-rating", type=float, default=4.0)
    args = parser.parse_args()
    print(convert(args.source, args.out, args.min_rating))


if __name__ == "__main__":
    main()
