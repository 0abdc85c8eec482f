"""The competition files' columns and types, as published (see the H&M data facts).

Names of files and columns are constants here so that nothing else spells them. ``CSV_SCHEMAS`` give the
types used to *read* each CSV (ids as strings, so a lost leading zero can be repaired); the typed cache
uses the narrower types of ``CACHE_SCHEMAS``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

ARTICLES_FILE = "articles.csv"
CUSTOMERS_FILE = "customers.csv"
TRANSACTIONS_FILE = "transactions_train.csv"
SAMPLE_SUBMISSION_FILE = "sample_submission.csv"
SOURCE_FILES = (ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE)
CACHE_DIRNAME = ".hmrec-cache"

# Column names used throughout hmrec.
T_DAT = "t_dat"
CUSTOMER_ID = "customer_id"
ARTICLE_ID = "article_id"
PRICE = "price"
SALES_CHANNEL = "sales_channel_id"
CUSTOMER_IDX = "customer_idx"
ARTICLE_IDX = "article_idx"

ARTICLE_ID_DIGITS = 10
CUSTOMER_ID_HEX = 64
DATE_FORMAT = "%Y-%m-%d"
#: A customer id as the competition writes it: 64 lowercase hexadecimal characters.
CUSTOMER_ID_PATTERN = rf"^[0-9a-f]{{{CUSTOMER_ID_HEX}}}$"
#: Transaction dates outside [EARLIEST_DATE, today + LATEST_DATE_AHEAD_DAYS], and the placeholder dates that
#: systems write for "unknown", are refused: one such row would move the test window (which ends on the last
#: date) and break the date axes of the reports. The competition's run from 2018-09-20 to 2020-09-22, but a
#: shop's records from the 1990s are real data, so the bound is only one no shop's records could precede.
EARLIEST_DATE = dt.date(1950, 1, 1)
LATEST_DATE_AHEAD_DAYS = 366
PLACEHOLDER_DATES = (dt.date(1900, 1, 1), dt.date(1970, 1, 1), dt.date(9999, 12, 31))
#: Values no record could hold, refused with their row. Prices may be scaled (the competition's are ~0.0001 to
#: 0.6) or in any currency's units, so the bound only keeps them far from float32's overflow (3.4e38) in sums.
MAX_PRICE = 1e9
AGE_RANGE = (1, 120)


def latest_date() -> dt.date:
    """The last plausible transaction date: a year after today."""
    return dt.date.today() + dt.timedelta(days=LATEST_DATE_AHEAD_DAYS)


TRANSACTION_COLUMNS = (T_DAT, CUSTOMER_ID, ARTICLE_ID, PRICE, SALES_CHANNEL)

CUSTOMER_COLUMNS = (
    CUSTOMER_ID,
    "FN",
    "Active",
    "club_member_status",
    "fashion_news_frequency",
    "age",
    "postal_code",
)

ARTICLE_COLUMNS = (
    ARTICLE_ID,
    "product_code",
    "prod_name",
    "product_type_no",
    "product_type_name",
    "product_group_name",
    "graphical_appearance_no",
    "graphical_appearance_name",
    "colour_group_code",
    "colour_group_name",
    "perceived_colour_value_id",
    "perceived_colour_value_name",
    "perceived_colour_master_id",
    "perceived_colour_master_name",
    "department_no",
    "department_name",
    "index_code",
    "index_name",
    "index_group_no",
    "index_group_name",
    "section_no",
    "section_name",
    "garment_group_no",
    "garment_group_name",
    "detail_desc",
)

ARTICLE_INT_COLUMNS = (
    "product_code",
    "product_type_no",
    "graphical_appearance_no",
    "colour_group_code",
    "perceived_colour_value_id",
    "perceived_colour_master_id",
    "department_no",
    "index_group_no",
    "section_no",
    "garment_group_no",
)

# Types for reading the CSVs. Ids are strings; numbers that are ints in the files are read as Int64 and
# narrowed when cached; t_dat is parsed by the loader so that a bad date can be reported with its row.
CSV_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    TRANSACTIONS_FILE: {
        T_DAT: pl.String(),
        CUSTOMER_ID: pl.String(),
        ARTICLE_ID: pl.String(),
        PRICE: pl.Float64(),
        SALES_CHANNEL: pl.Int64(),
    },
    CUSTOMERS_FILE: {
        CUSTOMER_ID: pl.String(),
        "FN": pl.Float64(),
        "Active": pl.Float64(),
        "club_member_status": pl.String(),
        "fashion_news_frequency": pl.String(),
        "age": pl.Float64(),
        "postal_code": pl.String(),
    },
    ARTICLES_FILE: {
        name: (pl.Int64() if name in ARTICLE_INT_COLUMNS else pl.String()) for name in ARTICLE_COLUMNS
    },
}

# Types in the typed cache and in Dataset frames.
TRANSACTIONS_SCHEMA: dict[str, pl.DataType] = {
    T_DAT: pl.Date(),
    CUSTOMER_IDX: pl.Int32(),
    ARTICLE_IDX: pl.Int32(),
    PRICE: pl.Float32(),
    SALES_CHANNEL: pl.Int8(),
}

CUSTOMERS_SCHEMA: dict[str, pl.DataType] = {
    CUSTOMER_IDX: pl.Int32(),
    CUSTOMER_ID: pl.String(),
    "FN": pl.Float32(),
    "Active": pl.Float32(),
    "club_member_status": pl.String(),
    "fashion_news_frequency": pl.String(),
    "age": pl.Int16(),
    "postal_code": pl.String(),
}

ARTICLES_SCHEMA: dict[str, pl.DataType] = {
    ARTICLE_IDX: pl.Int32(),
    **{name: (pl.Int32() if name in ARTICLE_INT_COLUMNS else pl.String()) for name in ARTICLE_COLUMNS},
}
