"""One run of the generator: the plan, the random streams, the stages in order, the files moved into place."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from hmrec.atomic import write_atomic
from hmrec.data.schema import ARTICLES_FILE, CUSTOMERS_FILE, SAMPLE_SUBMISSION_FILE, TRANSACTIONS_FILE
from hmrec.synthetic.articles import Articles, build_articles
from hmrec.synthetic.constants import GENERATOR_VERSION, MARKER_FILE, TRUTH_DIRNAME
from hmrec.synthetic.customers import Customers, build_customers
from hmrec.synthetic.plan import Calendar, Plan, Streams, make_plan
from hmrec.synthetic.purchases import simulate
from hmrec.synthetic.truth import write_truth
from hmrec.synthetic.world import WORLD_0, World, draw_world


def generate(
    out: Path,
    scale: str = "small",
    seed: int = 0,
    *,
    customers: int | None = None,
    articles: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    world: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Write the four competition files and ``truth/`` into ``out``; return a summary.

    ``customers``/``articles``/``start``/``end`` override the preset of ``scale``; the expected number of
    rows scales with customers x days. ``world`` draws the generator's structure (:mod:`.world`; 0, the default,
    is the calibrated one). The same arguments give byte-identical CSV files. Files are written
    under temporary names and renamed at the end, so an interrupted run leaves the directory as it was.
    Raises :class:`ParameterError` for bad arguments or an output directory holding other files.
    """
    started = time.perf_counter()
    drawn = draw_world(world)
    plan = make_plan(Path(out), scale, seed, customers, articles, start, end)
    from hmrec.progress import progress_bar

    if not progress:
        summary = Generator(plan, drawn).run(lambda info: None)
    else:
        with progress_bar() as bar:
            task = bar.add_task("generating (weeks)", total=plan.n_weeks + 1, info="")

            def tick(info: str) -> None:
                bar.update(task, advance=1, info=info)

            summary = Generator(plan, drawn).run(tick)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def generated_version(data_dir: Path) -> int | None:
    """The generator version that wrote ``data_dir`` (0 for data written before versions were recorded), or
    None if the generator did not write it (no readable marker)."""
    try:
        marker = json.loads((Path(data_dir) / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict):
        return None
    version = marker.get("version", 0)
    return version if isinstance(version, int) else None


class Generator:
    """One run of the generator in one world; stages use independent random streams spawned from the seed."""

    def __init__(self, plan: Plan, world: World = WORLD_0) -> None:
        self.plan = plan
        self.world = world
        self.calendar = Calendar(plan)
        self.streams = Streams(plan)

    def articles(self) -> Articles:
        return build_articles(self.plan, self.streams.articles, self.streams.segments, self.world.favourite_key)

    def customers(self, arts: Articles) -> Customers:
        return build_customers(self.calendar, self.world, arts, self.streams.customers, self.streams.ids)

    def run(self, tick: Callable[[str], None]) -> dict[str, Any]:
        plan = self.plan
        plan.out.mkdir(parents=True, exist_ok=True)
        tmp_paths: dict[str, Path] = {
            name: plan.out / f".hmrec-tmp-{name}"
            for name in (ARTICLES_FILE, CUSTOMERS_FILE, TRANSACTIONS_FILE, SAMPLE_SUBMISSION_FILE)
        }
        truth_tmp = plan.out / ".hmrec-tmp-truth"
        try:
            arts = self.articles()
            custs = self.customers(arts)
            with tmp_paths[TRANSACTIONS_FILE].open("wb") as handle:
                stats, truth = simulate(self.calendar, self.world, self.streams.weeks, arts, custs, handle, tick)
            arts.frame.write_csv(tmp_paths[ARTICLES_FILE])
            custs.frame.write_csv(tmp_paths[CUSTOMERS_FILE])
            top = " ".join(arts.ids.gather(stats.pop("top_final")).to_list())
            pl.DataFrame(
                {"customer_id": custs.ids, "prediction": pl.repeat(top, custs.ids.len(), eager=True)}
            ).write_csv(tmp_paths[SAMPLE_SUBMISSION_FILE])
            write_truth(plan, self.world, truth_tmp, truth, arts, custs)
            tick("files written")
            # everything is written: move it into place (each rename is atomic)
            final_truth = plan.out / TRUTH_DIRNAME
            if final_truth.exists():
                for child in final_truth.iterdir():
                    child.unlink()
                final_truth.rmdir()
            os.replace(truth_tmp, final_truth)
            for name, tmp in tmp_paths.items():
                os.replace(tmp, plan.out / name)
            marker = {
                "generator": "hmrec.synthetic",
                "version": GENERATOR_VERSION,
                "scale": plan.scale,
                "seed": plan.seed,
                "customers": plan.n_customers,
                "articles": plan.n_articles,
                "start": plan.start.isoformat(),
                "end": plan.end.isoformat(),
                "world": self.world.describe(),
            }
            write_atomic(plan.out / MARKER_FILE, json.dumps(marker, indent=2) + "\n")
        finally:
            for tmp in tmp_paths.values():
                tmp.unlink(missing_ok=True)
            if truth_tmp.exists():
                for child in truth_tmp.iterdir():
                    child.unlink()
                truth_tmp.rmdir()
        window = truth["window"]
        return {
            "out": str(plan.out),
            "scale": plan.scale,
            "seed": plan.seed,
            "rows": stats["rows"],
            "customers": plan.n_customers,
            "articles": plan.n_articles,
            "buying_customers": stats["buyers"],
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
            "truth_window": [window[0].isoformat(), window[1].isoformat()],
            "world": self.world.describe(),
        }
