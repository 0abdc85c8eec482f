"""The generator's calibration figures against the real data's (docs/calibration.md).

Usage: python benchmarks/calibration.py [--scale full] [--seeds 0,1,2] [--root DIR] [--data DIR] [--check]

For each seed, generates the data set of ``--scale`` into ``ROOT/<scale>-s<seed>`` (reused when it exists;
``--root`` defaults to ``$HMREC_BENCH_DATA``'s parent or the user's cache directory), or takes ``--data`` as it
is, and prints one JSON line of figures (hmrec.evaluation.calibration: MAP@12 of popularity, repurchase and the
oracle on the final week, their ratios, the recall of the test pairs by candidate source, the never-sold share,
the department names, the warm-up ratio and the recency bump) next to the real values. ``--check`` exits 1
when a figure of ``full`` is outside the targets of docs/calibration.md (on other scales the figures differ by
design: fewer articles make every list more accurate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

#: the calibration targets on ``full`` (docs/calibration.md): name -> (low, high)
TARGETS: dict[str, tuple[float, float]] = {
    "map_popularity": (0.0087 * 0.8, 0.0087 * 1.2),
    "map_repurchase": (0.022 * 0.8, 0.022 * 1.2),
    "oracle_over_repurchase": (2.5, 5.0),
    "recall_popularity": (0.055 / 1.5, 0.055 * 1.5),
    "recall_repurchase": (0.039 / 1.5, 0.039 * 1.5),
    "recall_same_product": (0.037 / 1.5, 0.037 * 1.5),
    "recall_copurchase": (0.024 / 1.5, 0.024 * 1.5),
    "candidates_per_buyer": (0.0, 230.0),
    "never_sold": (0.0, 0.02),
    "department_names": (200.0, 300.0),
    "warmup_ratio": (0.85, 1.15),
    "recency_bump": (0.0, 1.15),
}


def default_root() -> Path:
    env = os.environ.get("HMREC_BENCH_DATA")
    if env:
        return Path(env).parent
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hmrec"


def figures(data: Path) -> dict[str, Any]:
    from hmrec.data.load import load_dataset
    from hmrec.evaluation.calibration import calibration_figures

    started = time.perf_counter()
    out = calibration_figures(load_dataset(data, progress=False))
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def misses(found: dict[str, Any]) -> list[str]:
    """The figures outside their target band."""
    return [
        f"{name} {found[name]:.4g} not in [{lo:.4g}, {hi:.4g}]"
        for name, (lo, hi) in TARGETS.items()
        if not lo <= found[name] <= hi
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full", choices=("tiny", "small", "medium", "full"))
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--root", type=Path, default=None, help="where the generated data sets are kept")
    parser.add_argument("--data", type=Path, default=None, help="measure this data set instead")
    parser.add_argument("--check", action="store_true", help="exit 1 when a full-scale figure misses its target")
    args = parser.parse_args(argv)
    from hmrec.data.synthetic import generate
    from hmrec.evaluation.calibration import REAL

    print(json.dumps({"real": REAL}))
    failed = False
    runs = [(args.data, None)] if args.data else []
    root = args.root or default_root()
    for seed in [int(x) for x in args.seeds.split(",") if x] if not args.data else []:
        runs.append((root / f"{args.scale}-s{seed}", seed))
    for data, seed in runs:
        assert data is not None
        if seed is not None and not (data / "transactions_train.csv").exists():
            generate(data, scale=args.scale, seed=seed, progress=False)
        found = figures(data)
        line = {"scale": args.scale, "seed": seed, "data": str(data)}
        line.update({k: round(v, 4) if isinstance(v, float) else v for k, v in found.items()})
        print(json.dumps(line), flush=True)
        if args.check and args.scale == "full":
            bad = misses(found)
            for text in bad:
                print(f"MISS seed {seed}: {text}", file=sys.stderr)
            failed |= bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
