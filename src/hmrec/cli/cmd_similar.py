"""``hmrec similar``: the articles bought together with one article, and those similar to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hmrec.cli.main import CacheOption, DataOption, QuietOption, SeedOption, app, resolve_data


@app.command("similar")
def similar_command(
    article: str = typer.Option(..., "--article", "-a", help="The article's 10-digit article_id."),
    data: Path | None = DataOption,
    model_dir: Path | None = typer.Option(
        None, "--model-dir", help="Answer from a bundle written by `hmrec train` (its precomputed lists) "
        "instead of computing them from --data."
    ),
    k: int = typer.Option(12, "--k", help="How many articles per list."),
    kind: str | None = typer.Option(
        None, "--kind", help="bought-together (bought within a few days of it) or similar (by what ALS "
        "learned of the articles); default: both."
    ),
    cache: Path | None = CacheOption,
    quiet: bool = QuietOption,
    seed: int = SeedOption,
) -> None:
    """Articles like ARTICLE: bought together with it, and similar to it (rank, article, name, type, colour,
    score), computed from the data or read from a trained bundle."""
    from rich.console import Console

    from hmrec.cli.cmd_models import _table
    from hmrec.errors import ParameterError
    from hmrec.progress import set_quiet
    from hmrec.ranking.neighbours import KINDS, check_kind, check_list_length

    set_quiet(quiet)
    check_list_length(k)
    kinds = KINDS if kind is None else (check_kind(kind),)
    out = Console()
    if model_dir is not None:
        if data is not None:
            raise ParameterError(
                "--model-dir answers from the bundle alone (fix: drop --data, or drop --model-dir to compute "
                "the lists from the data)"
            )
        for one, title, frame in _from_bundle(model_dir, article, kinds, k):
            out.print(_table(title, frame, caption=_CAPTIONS[one]))
            if not frame.height:
                out.print(_EMPTY[one])
        return

    from hmrec.data.load import load_dataset
    from hmrec.output import recommendations_frame
    from hmrec.ranking.neighbours import lists_of

    dataset = load_dataset(resolve_data(data), cache, progress=not quiet)
    for one in kinds:
        _, ids, scores = lists_of(dataset, article, one, k, seed=seed)
        frame = recommendations_frame(dataset, ids, scores)
        out.print(_table(_title(one, article, frame.height), frame, caption=_CAPTIONS[one]))
        if not ids.size:
            out.print(_EMPTY[one])


# the kinds' names (hmrec.ranking.neighbours.KINDS) written out: the CLI does not import the library to start
_DAYS = 7  # NeighbourParams.days, which the captions describe
_CAPTIONS = {
    "bought-together": f"score: time-decayed share of its buyers who bought that article within {_DAYS} days",
    "similar": "score: closeness of the two articles' ALS item factors",
}
_EMPTY = {
    "bought-together": f"Nobody bought another article within {_DAYS} days of this one lately.",
    "similar": "No article sold lately is close to this one.",
}


def _title(kind: str, article: str, n: int) -> str:
    return f"{n} articles {'bought together with' if kind == 'bought-together' else 'similar to'} {article.strip()}"


def _from_bundle(model_dir: Path, article: str, kinds: tuple[str, ...], k: int) -> list[tuple[str, str, Any]]:
    """Each kind's list of ``article`` from the bundle in ``model_dir``, as (kind, title, frame)."""
    import polars as pl

    from hmrec.errors import ParameterError, UnknownCustomerError
    from hmrec.ranking.neighbours import UnsoldArticleError
    from hmrec.serve.article_lists import served_list
    from hmrec.serve.bundle import load_bundle

    bundle = load_bundle(model_dir)
    if k > bundle.depth:
        raise ParameterError(
            f"--k must be at most {bundle.depth} for {model_dir} (its lists are {bundle.depth} long) "
            f"(fix: --k {bundle.depth}, or train with a larger --serve-k)"
        )
    idx = bundle.article_index(article.strip())
    if idx is None:
        raise UnknownCustomerError(
            f"unknown article id '{article.strip()[:20]}' in {model_dir} (fix: use an id from the articles file)"
        )
    if not bundle.articles["n_sales"][idx]:
        raise UnsoldArticleError(
            f"article {bundle.article_id(idx)} was never sold in the data of {model_dir}: there is no purchase "
            "to base a list on (fix: ask for an article that has sales)"
        )
    shown = ("prod_name", "product_type_name", "colour_group_name")  # what `hmrec recommend` shows
    out = []
    for kind in kinds:
        pairs = served_list(bundle.arrays, model_dir, idx, kind, k)
        rows = [
            {"rank": rank, "article_id": bundle.article_id(i),
             **{col: bundle.articles[col][i] for col in shown if col in bundle.articles}, "score": score}
            for rank, (i, score) in enumerate(pairs, start=1)
        ]
        frame = pl.DataFrame(rows) if rows else pl.DataFrame({"rank": [], "article_id": []})
        out.append((kind, _title(kind, bundle.article_id(idx), frame.height), frame))
    return out
