"""Surrogate of the final week's popularity concentration (docs/calibration.md, second pass).

Usage: python benchmarks/hit_surrogate.py [--seeds 0,1,2] [--world W] [--set NAME=VALUE ...]

Builds the articles and customers of ``full`` for each seed (no purchases simulated) and computes every
article's expected sales in the last two weeks from the generator's own tables; prints, per seed, the share of
the final week held by the previous week's top 60 and top 12, and their coefficient of variation over seeds.
``--world`` takes the generator's world ``W`` (default 0); ``--set`` overrides a generator constant
(BASE_SIGMA, BASE_CAP, HIT_BOOST) or a field of the world (category_eta, fav_alpha).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from hmrec.synthetic import articles, customers
from hmrec.synthetic import constants as S
from hmrec.synthetic.customers import segment_mix
from hmrec.synthetic.generator import Generator
from hmrec.synthetic.plan import make_plan
from hmrec.synthetic.world import World, draw_world


def shares(seed: int, world: World) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        g = Generator(make_plan(Path(d) / "x", "full", seed, None, None, None, None), world)
        arts = g.articles()
        custs = g.customers(arts)
    n_weeks = g.plan.n_weeks
    type_season = g.calendar.type_season()
    order = arts.cat_order
    static_sorted = arts.static[:, order]
    n_seg = static_sorted.shape[0]
    alive = (custs.leave >= g.calendar.n_days - 14) & (custs.rate > 0)
    w_rate = custs.rate * alive * (1 - custs.rho)
    mix_weight = np.bincount(custs.segment, weights=w_rate * (1 - custs.fav_weight), minlength=n_seg)
    fav_weight = np.zeros((n_seg, arts.fav_count.size))
    for j in range(S.N_FAVOURITES):
        np.add.at(fav_weight, (custs.segment, custs.favourites[:, j]), w_rate * custs.fav_weight / S.N_FAVOURITES)
    expected = []
    for w in (n_weeks - 2, n_weeks - 1):
        age = (g.calendar.week_lo[w] + g.calendar.week_hi[w]) / 2.0 - arts.launch
        life = np.where(age < 0, 0.0, np.minimum(1.0, (age + 3.5) / 10.5)
                        * np.maximum(np.exp(-np.maximum(age - 10.0, 0.0) / arts.tau), S.LIFE_FLOOR))
        u_sorted = static_sorted * (arts.base * life)[order][None, :]
        mass = np.add.reduceat(u_sorted, arts.cat_start, axis=1)
        taste = arts.category_taste * type_season[w][arts.category_type][None, :]
        mix = segment_mix(taste * mass**world.category_eta, arts.category_group)
        q = np.empty_like(u_sorted)
        q[:, order] = u_sorted / mass[:, arts.category[order]]
        fav_order = arts.fav_order
        u_fav = (arts.static[:, fav_order] * (arts.base * life)[fav_order][None, :]) ** world.fav_alpha
        fav_mass = np.add.reduceat(u_fav, arts.fav_start, axis=1)
        q_fav = np.empty_like(u_fav)
        q_fav[:, fav_order] = u_fav / fav_mass[:, arts.fav_group[fav_order]]
        expected.append(mix_weight @ (mix[:, arts.category] * q) + (fav_weight[:, arts.fav_group] * q_fav).sum(0))
    prev, test = expected
    ranked = np.argsort(-prev)
    return float(test[ranked[:60]].sum() / test.sum()), float(test[ranked[:12]].sum() / test.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4,5")
    parser.add_argument("--world", type=int, default=0, help="the generator's world (default 0)")
    parser.add_argument("--set", action="append", default=[], help="NAME=VALUE, a generator constant")
    args = parser.parse_args()
    world = draw_world(args.world)
    for item in args.set:
        name, _, value = item.partition("=")
        if name in {field.name for field in dataclasses.fields(World)}:
            world = dataclasses.replace(world, **{name: float(value)})
            continue
        # the stages import the constants by name: set it wherever it is read
        for module in (S, articles, customers):
            if hasattr(module, name):
                setattr(module, name, float(value))
    rows = [(seed, *shares(seed, world)) for seed in (int(s) for s in args.seeds.split(","))]
    for seed, top60, top12 in rows:
        print(f"seed {seed}: top 60 {top60:.4f}, top 12 {top12:.4f}")
    top12s = np.array([r[2] for r in rows])
    print(f"top 12 mean {top12s.mean():.4f}, coefficient of variation {top12s.std() / top12s.mean():.3f}")


if __name__ == "__main__":
    main()
