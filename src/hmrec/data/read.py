"""Reading and checking the three competition files: the typed frames the cache is built from.

Each file is read as strings in one streaming pass and converted column by column (see :mod:`hmrec.data.load`
for how and why); the checks here say what is wrong with a file in one line: a missing file or column (with
the closest column name), another separator, a ragged or blank row, a missing, malformed, duplicate or
unknown id, a number out of range, a placeholder date. :func:`read_customers`, :func:`read_articles` and
:func:`read_transactions` give the typed frames; :mod:`hmrec.data.load` writes them into the cache and loads
the :class:`~hmrec.data.dataset.Dataset` (the Spark engine's ingest uses the same checks).
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from hmrec.data.schema import (
    AGE_RANGE,
    ARTICLE_COLUMNS,
    ARTICLE_ID,
    ARTICLE_ID_DIGITS,
    ARTICLE_IDX,
    ARTICLE_INT_COLUMNS,
    ARTICLES_FILE,
    ARTICLES_SCHEMA,
    CUSTOMER_COLUMNS,
    CUSTOMER_ID,
    CUSTOMER_ID_PATTERN,
    CUSTOMER_IDX,
    CUSTOMERS_FILE,
    CUSTOMERS_SCHEMA,
    DATE_FORMAT,
    EARLIEST_DATE,
    MAX_PRICE,
    PLACEHOLDER_DATES,
    PRICE,
    SALES_CHANNEL,
    SOURCE_FILES,
    T_DAT,
    TRANSACTION_COLUMNS,
    TRANSACTIONS_FILE,
    TRANSACTIONS_SCHEMA,
    latest_date,
)
from hmrec.errors import DataError

SALES_CHANNELS = (1, 2)
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    ARTICLES_FILE: ARTICLE_COLUMNS,
    CUSTOMERS_FILE: CUSTOMER_COLUMNS,
    TRANSACTIONS_FILE: TRANSACTION_COLUMNS,
}
_OTHER_SEPARATORS = (";", "\t", "|")
_ROW = "_row"
_HEADER_PROBE_BYTES = 1 << 16
_CUSTOMER_ID_RULE = "customer ids are 64 lowercase hexadecimal characters, as in the competition's files"
MESSAGE_CHARS = 120  # a quoted library message is cut here: the error must stay one short line
_BLANK_TAIL_ROWS = 1000  # at most this many blank lines at the end of a file are dropped, not reported


# ---------------------------------------------------------------------------------------------- sources
def check_sources(data_dir: Path) -> dict[str, Path]:
    """The three source files, after checking that they exist, are not empty and have the right header."""
    fix_dir = (
        "pass --data with the directory that holds articles.csv, customers.csv and transactions_train.csv"
    )
    if not data_dir.exists():
        raise DataError("the data directory does not exist", file=data_dir, fix=fix_dir)
    if not data_dir.is_dir():
        raise DataError("is not a directory", file=data_dir, fix=fix_dir)
    paths = {name: data_dir / name for name in SOURCE_FILES}
    for name, path in paths.items():
        if path.exists() and not path.is_file():
            raise DataError(
                "is not a regular file (a directory, a pipe or a device)",
                file=path,
                fix=f"put the competition's {name} file there",
            )
        if not path.is_file():
            raise DataError(
                "file not found",
                file=path,
                fix=f"put the competition's {name} in {data_dir}, or pass --data with the right directory",
            )
        if path.stat().st_size == 0:
            raise DataError(
                "the file is empty",
                file=path,
                fix=f"copy the complete {name} from the competition's data again",
            )
        _check_header(path, _REQUIRED_COLUMNS[name])
    return paths


def _check_header(path: Path, required: tuple[str, ...]) -> None:
    """Check the header line: comma-separated, with every required column."""
    with open(path, "rb") as handle:
        probe = handle.read(_HEADER_PROBE_BYTES)
    if b"\r" in probe and b"\n" not in probe:
        raise DataError(
            "lines end with a carriage return only (old Mac line endings), so the file reads as one line",
            file=path,
            fix="save it with LF or CRLF line endings",
        )
    line = probe.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if probe.strip() else ""
    fields = next(csv.reader([line])) if line.strip() else []
    if not fields:
        raise DataError(
            "the first line (the header) is empty",
            file=path,
            fix=f"start the file with the header {','.join(required[:3])},...",
        )
    if len(fields) == 1 and len(required) > 1:
        separator = next((sep for sep in _OTHER_SEPARATORS if sep in fields[0]), None)
        if separator is not None:
            shown = "TAB" if separator == "\t" else separator
            raise DataError(
                f"the header {_show(fields[0], 80)} is one field containing '{shown}': the file is "
                f"'{shown}'-separated, not comma-separated",
                file=path,
                column=required[0],
                fix="save it comma-separated, as in the competition's files",
            )
    present = {field.strip() for field in fields}
    for column in required:
        if column in fields:
            continue
        if column in present:
            fix = f"remove the spaces around '{column}' in the header"
        elif close := _close_match(column, [f for f in fields if f not in required]):
            fix = f"rename column {_show(close)} to '{column}'"
        else:
            fix = f"add it; the header must have the columns {','.join(required)}"
        raise DataError("missing column", file=path, column=column, fix=fix)


def _close_match(column: str, candidates: list[str]) -> str | None:
    """The header field that is most likely a misspelling of ``column`` (case and spaces ignored)."""
    folded = {candidate.strip().lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(column.lower(), list(folded), n=1, cutoff=0.75)
    return folded[close[0]] if close else None


def _scan(path: Path) -> pl.LazyFrame:
    """Every column as a string (converted and checked by hmrec, so that a bad value has a row number)."""
    return pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")


def _collect(frame: pl.LazyFrame, path: Path, n_columns: int) -> pl.DataFrame:
    """Collect a scan, turning a CSV parse failure into one DataError line (with the row when found)."""
    try:
        return frame.collect(engine="streaming")
    except pl.exceptions.ComputeError as exc:
        message = str(exc).strip().splitlines()[0][:MESSAGE_CHARS] if str(exc).strip() else type(exc).__name__
        raise parse_error(path, n_columns, message) from None


def parse_error(path: Path, n_columns: int, message: str) -> DataError:
    """The error for a file the CSV reader could not parse: the first ragged row when one is found."""
    row = _first_ragged_row(path, n_columns)
    problem = (
        f"a row does not have the header's {n_columns} fields" if row is not None else f"unreadable CSV ({message})"
    )
    return DataError(
        problem,
        file=path,
        row=row,
        fix="check the file is a complete, comma-separated copy of the original",
    )


def _first_ragged_row(path: Path, n_columns: int) -> int | None:
    """Best effort, streamed: the first data row whose field count differs from the header's.

    Fields are counted as commas outside double quotes plus one; blank lines are not rows. When a quoted
    field spans lines (a line with an odd number of quotes), lines are not rows either, and None is returned.
    """
    lines = pl.scan_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        encoding="utf8-lossy",
    ).with_row_index(_ROW)
    line = pl.col("line").fill_null("")
    try:
        quotes = line.str.count_matches('"', literal=True)
        if lines.select((quotes % 2 == 1).any()).collect(engine="streaming").item():
            return None
        # "a,b" and "a""b" are removed whole (an escaped quote splits one into two quoted runs)
        commas = line.str.replace_all(r'"[^"]*"', "").str.count_matches(",", literal=True)
        ragged = (
            lines.filter(
                (pl.col(_ROW) > 0) & (line.str.strip_chars() != "") & (commas != n_columns - 1)
            )
            .select(pl.col(_ROW).min())
            .collect(engine="streaming")
            .item()
        )
    except pl.exceptions.PolarsError:
        return None
    return int(ragged) if ragged is not None else None  # line i (header = line 0) is data row i


def _check_rows(raw: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``raw`` without the blank lines at its end, after checking that no row has too few fields.

    polars fills the fields missing from a short row with nulls, like empty fields; only when the last column
    has nulls (a short row always leaves it empty) are the lines counted to tell the two apart.
    """
    raw = _drop_blank_tail(raw)
    if raw.height and raw[raw.columns[-1]].null_count():
        row = _first_ragged_row(path, raw.width)
        if row is not None:
            raise _ragged(path, row, raw.width)
    return raw


def _ragged(path: Path, row: int, n_columns: int) -> DataError:
    return DataError(
        f"a row does not have the header's {n_columns} fields",
        file=path,
        row=row,
        fix="check the file is a complete, comma-separated copy of the original",
    )


def _drop_blank_tail(raw: pl.DataFrame) -> pl.DataFrame:
    """``raw`` without its trailing rows whose fields are all empty (blank lines at the end of the file)."""
    if raw.height == 0:
        return raw
    blank = raw.select(pl.all_horizontal(pl.all().is_null())).to_series().to_numpy()
    if not blank[-1]:
        return raw
    kept = np.flatnonzero(~blank)
    return raw.head(int(kept[-1]) + 1 if kept.size else 0)


def check_not_empty(frame: pl.DataFrame, path: Path) -> None:
    if frame.height == 0:
        raise DataError(
            "the file has a header but no data rows",
            file=path,
            fix=f"copy the complete {path.name} from the competition's data again",
        )


def _missing(raw: pl.Expr) -> pl.Expr:
    """A missing value: an empty field (null) or a quoted empty or blank string."""
    return raw.is_null() | (raw.str.strip_chars() == "")


def _rows(count: int) -> str:
    return f"{count:,} row has" if count == 1 else f"{count:,} rows have"


def _first_true(mask: pl.Series) -> int | None:
    """Position of the first True of ``mask``, or None."""
    return int(mask.arg_max() or 0) if mask.any() else None


def _show(value: object, limit: int = 40) -> str:
    """A raw value for a one-line message: quoted, escaped, shortened."""
    text = repr(str(value)) if value is not None else "''"
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _require_ids(
    raw: pl.Series, path: Path, column: str, what: str, valid: pl.Series | None = None, rule: str = ""
) -> None:
    """Ids must be present, well-formed (``valid``) and unique."""
    missing = _first_true(raw.is_null() | (raw.str.strip_chars() == ""))
    if missing is not None:
        raise DataError(
            f"missing {what} id",
            file=path,
            column=column,
            row=missing + 1,
            fix="every row needs an id",
        )
    if valid is not None:
        bad = _first_true(~valid)
        if bad is not None:
            raise DataError(
                f"malformed {what} id {_show(raw[bad])}", file=path, column=column, row=bad + 1, fix=rule
            )


def _require_unique(ids: pl.Series, path: Path, column: str, what: str, raw: pl.Series) -> None:
    if ids.n_unique() == ids.len():  # the usual case, one parallel hash pass; locate a duplicate only if not
        return
    duplicate = _first_true(~ids.is_first_distinct()) or 0
    first = _first_true(ids == ids[duplicate])
    shown = _show(raw[duplicate], 80)
    if raw[duplicate] != ids[duplicate]:
        shown += f" (as {ids[duplicate]})"
    raise DataError(
        f"{what} id {shown} appears twice (rows {(first or 0) + 1} and {duplicate + 1})",
        file=path,
        column=column,
        row=duplicate + 1,
        fix=f"keep one row per {what}",
    )


def _numeric(raw: pl.Series, dtype: pl.DataType, path: Path) -> pl.Series:
    """Cast an optional numeric column read as text; a value that is not a (whole) number is an error."""
    column = raw.name
    direct = raw.cast(dtype, strict=False)
    finite = dtype.is_integer() or bool(direct.is_finite().fill_null(True).all())
    if finite and direct.null_count() == raw.null_count():  # every value parsed as is: the usual case
        return direct.alias(column)
    missing = raw.is_null() | (raw.str.strip_chars() == "")
    value = raw.str.strip_chars().cast(pl.Float64, strict=False)
    bad = _first_true(~missing & (value.is_null() | ~value.is_finite()).fill_null(True))
    if bad is not None:
        raise DataError(
            f"{_show(raw[bad])} is not a number",
            file=path,
            column=column,
            row=bad + 1,
            fix="write a plain number or leave the field empty",
        )
    if not dtype.is_integer():
        return value.cast(dtype).alias(column)
    fractional = _first_true((value != value.round(0)).fill_null(False))
    if fractional is not None:
        raise DataError(
            f"{_show(raw[fractional])} is not a whole number",
            file=path,
            column=column,
            row=fractional + 1,
            fix="write a whole number or leave the field empty",
        )
    out = value.cast(dtype, strict=False)
    overflow = _first_true(out.is_null() & value.is_not_null())
    if overflow is not None:
        raise DataError(
            f"{_show(raw[overflow])} is out of range for {dtype}",
            file=path,
            column=column,
            row=overflow + 1,
            fix="check the value",
        )
    return out.alias(column)


def _require_range(values: pl.Series, raw: pl.Series, path: Path, bounds: tuple[float, float], fix: str) -> None:
    """A DataError at the first value outside ``bounds`` (inclusive; missing values pass)."""
    low, high = bounds
    bad = _first_true(~values.is_between(low, high).fill_null(True))
    if bad is not None:
        raise DataError(
            f"{_show(raw[bad])} is outside the plausible range {low} to {high}",
            file=path,
            column=values.name,
            row=bad + 1,
            fix=fix,
        )


# ------------------------------------------------------------------------------- customers, articles
def read_customers(path: Path) -> pl.DataFrame:
    """customers.csv -> customer_idx + the CUSTOMERS_SCHEMA columns; ids present and unique."""
    raw = _check_rows(_collect(_scan(path).select(CUSTOMER_COLUMNS), path, len(CUSTOMER_COLUMNS)), path)
    check_not_empty(raw, path)
    ids = raw[CUSTOMER_ID]
    _require_ids(
        ids,
        path,
        CUSTOMER_ID,
        "customer",
        valid=ids.str.contains(CUSTOMER_ID_PATTERN).fill_null(False),
        rule=_CUSTOMER_ID_RULE,
    )
    _require_unique(ids, path, CUSTOMER_ID, "customer", ids)
    columns: list[pl.Series] = []
    for name, dtype in CUSTOMERS_SCHEMA.items():
        if name == CUSTOMER_IDX:
            columns.append(pl.int_range(raw.height, dtype=pl.Int32, eager=True).alias(CUSTOMER_IDX))
        elif dtype == pl.String:
            columns.append(raw[name])
        else:
            columns.append(_numeric(raw[name], dtype, path))
    frame = pl.DataFrame(columns)
    _require_range(frame["age"], raw["age"], path, AGE_RANGE, "leave the field empty when the age is unknown")
    return frame


def read_articles(path: Path) -> pl.DataFrame:
    """articles.csv -> article_idx + the ARTICLES_SCHEMA columns; ids digits only, normalized, unique."""
    raw = _check_rows(_collect(_scan(path).select(ARTICLE_COLUMNS), path, len(ARTICLE_COLUMNS)), path)
    check_not_empty(raw, path)
    raw_ids = raw[ARTICLE_ID]
    _require_ids(
        raw_ids,
        path,
        ARTICLE_ID,
        "article",
        valid=raw_ids.str.contains(rf"^[0-9]{{1,{ARTICLE_ID_DIGITS}}}$").fill_null(False),
        rule=f"article ids are up to {ARTICLE_ID_DIGITS} digits, e.g. 0706016001",
    )
    # Copies of the data read with integer article ids lost the leading zero: restore it.
    ids = raw_ids.str.zfill(ARTICLE_ID_DIGITS).alias(ARTICLE_ID)
    _require_unique(ids, path, ARTICLE_ID, "article", raw_ids)
    columns: list[pl.Series] = []
    for name, dtype in ARTICLES_SCHEMA.items():
        if name == ARTICLE_IDX:
            columns.append(pl.int_range(raw.height, dtype=pl.Int32, eager=True).alias(ARTICLE_IDX))
        elif name == ARTICLE_ID:
            columns.append(ids)
        elif name in ARTICLE_INT_COLUMNS:
            columns.append(_numeric(raw[name], dtype, path))
        else:
            columns.append(raw[name])
    return pl.DataFrame(columns)


# ---------------------------------------------------------------------------------------------- transactions
def _convert_transactions(raw: pl.LazyFrame, customers: pl.LazyFrame, articles: pl.LazyFrame) -> pl.LazyFrame:
    """The conversion of the raw transaction columns; every bad value becomes null (checked afterwards).

    Values are parsed as written (no stripping of spaces: it cost a fifth of the pass and the competition's
    files have none; a padded value is reported with its row). The joins do not keep the row order (an
    order-keeping join measured ~20% slower than joining freely and sorting by the row number afterwards),
    so the row number travels along in ``_row``.
    """
    price = pl.col(PRICE).cast(pl.Float64, strict=False)
    channel = pl.col(SALES_CHANNEL).cast(pl.Int64, strict=False)
    date = pl.col(T_DAT).str.to_date(DATE_FORMAT, strict=False)
    return (
        raw.with_row_index(_ROW)
        .select(
            pl.col(_ROW),
            pl.when(date.is_between(EARLIEST_DATE, latest_date()) & ~date.is_in(PLACEHOLDER_DATES))
            .then(date)
            .alias(T_DAT),
            pl.col(CUSTOMER_ID),
            # Restores a lost leading zero; a malformed id simply finds no article.
            pl.col(ARTICLE_ID).str.zfill(ARTICLE_ID_DIGITS),
            pl.when(price.is_between(0, MAX_PRICE)).then(price).cast(pl.Float32).alias(PRICE),
            pl.when(channel.is_in(SALES_CHANNELS)).then(channel).cast(pl.Int8).alias(SALES_CHANNEL),
        )
        .join(customers, on=CUSTOMER_ID, how="left")
        .join(articles, on=ARTICLE_ID, how="left")
        .select(
            pl.col(_ROW),
            pl.col(T_DAT),
            pl.col(CUSTOMER_IDX).cast(pl.Int32),
            pl.col(ARTICLE_IDX).cast(pl.Int32),
            pl.col(PRICE),
            pl.col(SALES_CHANNEL),
        )
    )


def read_transactions(path: Path, customers: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """transactions_train.csv -> the TRANSACTIONS_SCHEMA frame in file order (DataError: first bad row)."""
    converted = _convert_transactions(
        _scan(path).select(TRANSACTION_COLUMNS),
        customers.lazy().select(CUSTOMER_ID, CUSTOMER_IDX),
        articles.lazy().select(ARTICLE_ID, ARTICLE_IDX),
    )
    frame = _collect(converted, path, len(TRANSACTION_COLUMNS))
    nulls = frame.null_count().row(0, named=True)
    if any(nulls.values()):
        bad = int(frame.filter(pl.any_horizontal(pl.all().is_null()))[_ROW].min())  # type: ignore[arg-type]
        if not _blank_from(path, bad, frame.height):
            check_not_empty(frame, path)
            raise explain_transaction(path, bad, nulls, customers, articles)
        frame = frame.filter(pl.col(_ROW) < bad)  # blank lines at the end of the file
    check_not_empty(frame, path)
    return frame.sort(_ROW).select([pl.col(c).cast(t) for c, t in TRANSACTIONS_SCHEMA.items()])


def _blank_from(path: Path, row: int, height: int) -> bool:
    """True when data rows ``row`` to the end are all blank lines (only a short tail is read to tell)."""
    if height - row > _BLANK_TAIL_ROWS:
        return False
    tail = _scan(path).select(TRANSACTION_COLUMNS).slice(row).collect(engine="streaming")
    return bool(tail.select(pl.all_horizontal(pl.all().is_null()).all()).item())


def explain_transaction(
    path: Path, row: int, nulls: Mapping[str, int], customers: pl.DataFrame, articles: pl.DataFrame
) -> DataError:
    """Re-read the raw text of the first bad transaction row and say what is wrong with it.

    Checks run in column order, so the message is about the row's first bad value.
    """
    raw = _scan(path).select(TRANSACTION_COLUMNS).slice(row, 1).collect(engine="streaming").row(0, named=True)
    where: dict[str, Any] = {"file": path, "row": row + 1}

    def blank(value: str | None) -> bool:
        return value is None or not value.strip()

    def missing(column: str, what: str, article: str = "a") -> DataError:
        return DataError(
            f"missing {what}", column=column, fix=f"every transaction needs {article} {what}", **where
        )

    if raw[SALES_CHANNEL] is None and _first_ragged_row(path, len(TRANSACTION_COLUMNS)) == row + 1:
        return _ragged(path, row + 1, len(TRANSACTION_COLUMNS))

    date = raw[T_DAT]
    if blank(date):
        return missing(T_DAT, "date")
    parsed = pl.Series([date], dtype=pl.String).str.to_date(DATE_FORMAT, strict=False).item()
    if parsed is None:
        return DataError(
            f"{_show(date)} is not a date",
            column=T_DAT,
            fix="write dates as YYYY-MM-DD, e.g. 2020-09-22",
            **where,
        )
    if parsed in PLACEHOLDER_DATES:
        return DataError(
            f"date {_show(date)} is a placeholder for an unknown date, not a sale's date",
            column=T_DAT,
            fix="give the real date or remove the row",
            **where,
        )
    if not EARLIEST_DATE <= parsed <= latest_date():
        return DataError(
            f"date {_show(date)} is outside the plausible range {EARLIEST_DATE} to {latest_date()}",
            column=T_DAT,
            fix="correct the date or remove the row",
            **where,
        )

    customer = raw[CUSTOMER_ID]
    if customer is None or blank(customer):
        return missing(CUSTOMER_ID, "customer id")
    if pl.Series([customer], dtype=pl.String).str.contains(CUSTOMER_ID_PATTERN).item() is not True:
        return DataError(
            f"malformed customer id {_show(customer, 80)}", column=CUSTOMER_ID, fix=_CUSTOMER_ID_RULE, **where
        )
    if not (customers[CUSTOMER_ID] == customer).any():
        return DataError(
            f"customer id {_show(customer, 80)} is not in {CUSTOMERS_FILE} "
            f"({_rows(nulls[CUSTOMER_IDX])} a missing or unknown customer id)",
            column=CUSTOMER_ID,
            fix=f"add the customer to {CUSTOMERS_FILE} or remove those transactions",
            **where,
        )

    article = raw[ARTICLE_ID]
    if article is None or blank(article):
        return missing(ARTICLE_ID, "article id", "an")
    if not (article.isascii() and article.isdigit() and len(article) <= ARTICLE_ID_DIGITS):
        return DataError(
            f"malformed article id {_show(article)}",
            column=ARTICLE_ID,
            fix=f"article ids are up to {ARTICLE_ID_DIGITS} digits, e.g. 0706016001",
            **where,
        )
    if not (articles[ARTICLE_ID] == article.zfill(ARTICLE_ID_DIGITS)).any():
        return DataError(
            f"article id {_show(article)} is not in {ARTICLES_FILE} "
            f"({_rows(nulls[ARTICLE_IDX])} a missing, malformed or unknown article id)",
            column=ARTICLE_ID,
            fix=f"add the article to {ARTICLES_FILE} or remove those transactions",
            **where,
        )

    price = raw[PRICE]
    if blank(price):
        return missing(PRICE, "price")
    number = pl.Series([price], dtype=pl.String).cast(pl.Float64, strict=False).item()
    if number is None:
        return DataError(
            f"{_show(price)} is not a number", column=PRICE, fix="write prices as plain numbers", **where
        )
    if not 0 <= number <= MAX_PRICE:  # negative, NaN, infinite or implausibly large
        if not math.isfinite(number):
            problem = "not finite"
        else:
            problem = "negative" if number < 0 else f"larger than {MAX_PRICE:g}"
        return DataError(
            f"price {_show(price)} is {problem}",
            column=PRICE,
            fix=f"prices are 0 to {MAX_PRICE:g}, e.g. 0.0254 as in the competition's scaled prices",
            **where,
        )

    channel = raw[SALES_CHANNEL]
    if blank(channel):
        return missing(SALES_CHANNEL, "sales channel")
    return DataError(
        f"sales channel {_show(channel)} is not 1 or 2",
        column=SALES_CHANNEL,
        fix="use 1 or 2, the competition's two sales channels",
        **where,
    )
