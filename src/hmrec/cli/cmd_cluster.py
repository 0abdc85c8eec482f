"""``hmrec cluster``: k-means clusters of customers or articles, k chosen by elbow and silhouette.

Writes into ``--out``: ``choose_k.csv`` (k, inertia, silhouette), ``clusters.csv`` (the profile of each
cluster), ``customer_clusters.csv`` (customer_id, cluster) or ``article_clusters.csv`` (article_id, cluster),
``elbow.png`` (inertia and silhouette against k, the choice marked) and ``summary.json`` (the chosen k, the
rule that chose it and, on generated data, the adjusted Rand index against the true segments). Every file is
written atomically (temporary file + rename).
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import typer

from hmrec.cli.main import CacheOption, DataOption, QuietOption, SeedOption, app, resolve_data
from hmrec.clustering.choose_k import DEFAULT_SCAN_SAMPLE, DEFAULT_SILHOUETTE_SAMPLE


class What(StrEnum):
    customers = "customers"
    articles = "articles"


def true_segment_labels(data_dir: Path, n_customers: int) -> np.ndarray | None:
    """The generator's true customer segments, when ``data_dir`` holds generated data (else None)."""
    try:
        from hmrec.synthetic import true_segments
    except ImportError:
        return None
    try:
        truth = true_segments(data_dir)
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return None
    except Exception as exc:  # the generator's own "no truth here" error
        from hmrec.errors import HmrecError

        if isinstance(exc, HmrecError):
            return None
        raise
    if truth is None:
        return None
    truth = np.asarray(truth)
    return truth if truth.shape == (n_customers,) else None


def _rich_table(title: str, frame: Any) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name in frame.columns:
        table.add_column(
            name, justify="left" if frame[name].dtype == str or name.startswith("top_") else "right"
        )
    for row in frame.iter_rows():
        cells = []
        for value in row:
            if isinstance(value, bool):
                cells.append("<-" if value else "")
            elif isinstance(value, float):
                cells.append(f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}")
            else:
                cells.append("" if value is None else f"{value:,}" if isinstance(value, int) else str(value))
        table.add_row(*cells)
    return table


#: short headers of the profile columns, so that the table fits 80 columns
SHORT = {
    "customers": "customers",
    "buyers": "buyers",
    "mean_age": "age",
    "rows_per_buyer": "rows/buyer",
    "mean_price": "price",
    "online_share": "online",
}
PERCENT = ("share", "online_share")


def _profile_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in PERCENT:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _print_profiles(out: Any, title: str, profiles: Any) -> None:
    """The numbers of each cluster as a narrow table, then its top categories as wrapped lines (the full
    profile is in clusters.csv): readable in an 80-column terminal."""
    import textwrap

    from rich import box
    from rich.table import Table

    numbers = [c for c in profiles.columns if not c.startswith("top_")]
    tops = [c for c in profiles.columns if c.startswith("top_")]
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in numbers:
        table.add_column(SHORT.get(name, name), justify="right", no_wrap=True)
    for row in profiles.select(numbers).iter_rows(named=True):
        table.add_row(*[_profile_cell(name, value) for name, value in row.items()])
    out.print(table)
    width = max(40, min(out.width, 120))
    for row in profiles.iter_rows(named=True):
        text = "; ".join(f"{name.removeprefix('top_').replace('_', ' ')}: {row[name]}" for name in tops)
        out.print(
            textwrap.fill(f"cluster {row['cluster']}: {text}", width, subsequent_indent="    "),
            markup=False,
            highlight=False,
        )


@app.command()
def cluster(
    data: Path | None = DataOption,
    cache: Path | None = CacheOption,
    what: What = typer.Option(What.customers, "--what", help="Cluster customers or articles."),
    k_min: int = typer.Option(2, "--k-min", help="Smallest k tried."),
    k_max: int = typer.Option(30, "--k-max", help="Largest k tried."),
    sample: int = typer.Option(
        DEFAULT_SCAN_SAMPLE,
        "--sample",
        help=f"Rows the k scan fits on (the silhouette uses {DEFAULT_SILHOUETTE_SAMPLE:,} of them).",
    ),
    out: Path = typer.Option(Path("hmrec-clusters"), "--out", help="Directory for the plot and the tables."),
    seed: int = SeedOption,
    quiet: bool = QuietOption,
) -> None:
    """Cluster customers or articles with k-means; choose k (Kneedle elbow + silhouette); profile clusters."""
    from rich.console import Console

    from hmrec.clustering import article_features, customer_features
    from hmrec.clustering.choose_k import article_profiles, customer_profiles, fit_clusters
    from hmrec.data.load import load_dataset
    from hmrec.progress import console, set_quiet
    from hmrec.reports.plots import plot_elbow, write_atomic

    set_quiet(quiet)
    status = console()
    started = time.perf_counter()
    data_dir = resolve_data(data)
    dataset = load_dataset(data_dir, cache, progress=not quiet)
    status.print(f"Building {what.value} features ...")
    features = customer_features(dataset) if what is What.customers else article_features(dataset, seed=seed)
    status.print(
        f"Scanning k = {k_min}..{k_max} on {min(sample, int(features.fit_rows.sum())):,} "
        f"of {int(features.fit_rows.sum()):,} {what.value} ..."
    )
    clustering = fit_clusters(features, None, seed=seed, k_min=k_min, k_max=k_max, sample=sample)
    choice = clustering.choice
    assert choice is not None  # k=None always scans
    profiles = (
        customer_profiles(dataset, clustering.labels)
        if what is What.customers
        else article_profiles(dataset, clustering.labels)
    )
    summary: dict[str, Any] = {
        "what": what.value,
        "data": str(data_dir),
        "rows": int(features.frame.height),
        "fit_rows": int(features.fit_rows.sum()),
        "k_range": [choice.ks[0], choice.ks[-1]],
        "elbow": choice.elbow,
        "chosen_k": choice.chosen,
        "reason": choice.reason,
        "seed": seed,
    }
    if what is What.customers:
        truth = true_segment_labels(data_dir, dataset.n_customers)
        if truth is not None:
            from sklearn.metrics import adjusted_rand_score

            known = truth >= 0
            summary["adjusted_rand_index"] = float(
                adjusted_rand_score(truth[known], clustering.labels[known])
            )
            summary["true_segments"] = int(np.unique(truth[known]).size)

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "choose_k.csv", choice.to_frame().write_csv().encode())
    write_atomic(out / "clusters.csv", profiles.write_csv().encode())
    ids = dataset.customer_ids if what is What.customers else dataset.article_ids
    id_column = "customer_id" if what is What.customers else "article_id"
    rows = features.frame[features.frame.columns[0]].to_numpy()  # customer_idx or article_idx of each label
    members = pl.DataFrame({id_column: ids[rows], "cluster": clustering.labels.astype(np.int32)})
    members_file = f"{what.value[:-1]}_clusters.csv"
    write_atomic(out / members_file, members.write_csv().encode())
    plot_elbow(choice, out / "elbow.png", title=f"Choosing k for {what.value}: inertia and silhouette")
    summary["seconds"] = round(time.perf_counter() - started, 1)
    write_atomic(out / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())

    stdout = Console()
    stdout.print(
        _rich_table(
            f"k scan ({choice.n_fit:,} rows; silhouette on {choice.n_silhouette:,})", choice.to_frame()
        )
    )
    _print_profiles(stdout, f"{what.value[:-1].capitalize()} clusters (k = {choice.chosen})", profiles)
    stdout.print(f"Chosen k = {choice.chosen}: {choice.reason}.")
    if "adjusted_rand_index" in summary:
        stdout.print(
            f"Adjusted Rand index against the generator's {summary['true_segments']} true segments: "
            f"{summary['adjusted_rand_index']:.3f}"
        )
    stdout.print(
        f"Wrote elbow.png, choose_k.csv, clusters.csv, {members_file}, summary.json to {out}/ "
        f"({summary['seconds']} s)"
    )
