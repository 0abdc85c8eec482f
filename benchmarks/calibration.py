"""The generator's calibration figures against the real data's (docs/calibration.md).

Usage: python benchmarks/calibration.py [--scale full] [--seeds 0,1,2] [--world 0,1,2] [--root DIR] [--data DIR]
[--check]

For each world and seed, generates the data set of ``--scale`` into ``ROOT/<scale>-s<seed>`` (world 0) or
``ROOT/<scale>-w<world>-s<seed>`` (reused when it exists;
``--root`` defaults to ``$HMREC_BENCH_DATA``'s parent or the user's cache directory), or takes ``--data`` as it
is, and prints one JSON line of figures with the world (its number and favourite key, from the data set's
marker; hmrec.evaluation.calibration: MAP@12 of popularity, repurchase and the
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


def world_of(marker: Path) -> dict[str, Any]:
    """The world a generated data set was drawn in (its marker; data written before worlds existed are world
    0), or nothing for data the generator did not write."""
    try:
        written = json.loads(marker.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(written, dict):
        return {}
    if "world" not in written:
        from hmrec.synthetic import draw_world

        return draw_world(0).describe()
    world: dict[str, Any] = written["world"]
    return world


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
    parser.add_argument("--world", default="0", help="comma-separated generator worlds (default 0, the calibrated)")
    parser.add_argument("--root", type=Path, default=None, help="where the generated data sets are kept")
    parser.add_argument("--data", type=Path, default=None, help="measure this data set instead")
    parser.add_argument("--check", action="store_true", help="exit 1 when a full-scale figure misses its target")
    args = parser.parse_args(argv)
    from hmrec.evaluation.calibration import REAL
    from hmrec.synthetic import MARKER_FILE, generate

    print(json.dumps({"real": REAL}))
    failed = False
    runs: list[tuple[Path, int | None, int | None]] = [(args.data, None, None)] if args.data else []
    root = args.root or default_root()
    for world in [int(x) for x in args.world.split(",") if x] if not args.data else []:
        for seed in [int(x) for x in args.seeds.split(",") if x]:
            name = f"{args.scale}-s{seed}" if world == 0 else f"{args.scale}-w{world}-s{seed}"
            runs.append((root / name, seed, world))
    for data, seed, world in runs:
        if seed is not None and world is not None and not (data / "transactions_train.csv").exists():
            generate(data, scale=args.scale, seed=seed, world=world, progress=False)
        found = figures(data)
        drawn = world_of(data / MARKER_FILE)
        line = {"scale": args.scale, "seed": seed, "world": drawn.get("number"), "data": str(data)}
        line["favourite_key"] = " x ".join(drawn.get("favourite_key", []))
        line.update({k: round(v, 4) if isinstance(v, float) else v for k, v in found.items()})
        print(json.dumps(line), flush=True)
        if args.check and args.scale == "full":
            bad = misses(found)
            for text in bad:
                print(f"MISS world {world} seed {seed}: {text}", file=sys.stderr)
            failed |= bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
