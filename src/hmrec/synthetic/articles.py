"""The catalogue: products, colours, the article hierarchy, partners, life cycles, prices, articles.csv."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from hmrec.data.schema import ARTICLE_COLUMNS
from hmrec.synthetic import _vocab as V
from hmrec.synthetic.constants import (
    ARTICLES_PER_PRODUCT,
    BASE_CAP,
    BASE_SIGMA,
    BASIC_SHARE,
    BASIC_TAU,
    DEPT_PREFIXED,
    FADE_TAU,
    FAVOURITE_COLUMNS,
    HIT_BOOST,
    N_PARTNERS,
    PARTNER_SPREAD,
    PRICE_SCALE,
    PRICE_UNITS,
)
from hmrec.synthetic.plan import SCALES, Plan
from hmrec.synthetic.sampling import normalize, sample, word_series


@dataclass
class Articles:
    """The catalogue and what the purchase model needs of it (one row per article unless said otherwise)."""

    frame: pl.DataFrame
    product: np.ndarray  # article -> product (articles are sorted by id, so a product's articles are contiguous)
    product_start: np.ndarray  # product -> first article row
    product_count: np.ndarray  # product -> number of articles (colours)
    category: np.ndarray  # article -> category (index x product type)
    cat_order: np.ndarray  # articles by category, then colour master
    cat_start: np.ndarray  # category -> first position in cat_order
    cat_count: np.ndarray
    attributes: dict[str, np.ndarray]  # article attribute column -> the article's value, as a position (0, 1, ..)
    fav_group: np.ndarray  # article -> its group of the world's favourite key (world 0: a sub-category)
    fav_order: np.ndarray  # articles by favourite group (world 0: the same order as cat_order)
    fav_start: np.ndarray  # favourite group -> first position in fav_order
    fav_count: np.ndarray
    partners: np.ndarray  # (articles, N_PARTNERS) articles bought after this one ("go together")
    category_group: np.ndarray  # category -> index group (position in INDEX_GROUPS)
    category_type: np.ndarray  # category -> product type (position in PRODUCT_TYPES)
    category_taste: np.ndarray  # (segments, categories) static taste multiplier
    static: np.ndarray  # (segments, articles) colour and price preference
    base: np.ndarray  # article base popularity
    launch: np.ndarray  # article launch day (day index, negative = before the start)
    tau: np.ndarray  # article decay time constant, days
    price_units: np.ndarray  # article base price in 1/PRICE_UNITS
    ids: pl.Series  # 10-digit article ids


def build_articles(
    plan: Plan, rng: np.random.Generator, srng: np.random.Generator, favourite_key: tuple[str, ...]
) -> Articles:
    """The catalogue: products and their colours, categories, the groups of the favourite key (article
    attribute columns, see FAVOURITE_COLUMNS), co-purchase partners, life cycles, prices and the frame of
    articles.csv; the segments' tastes come from their own stream ``srng``, so that they do not depend on the
    article count."""
    n_art = plan.n_articles
    n_prod = min(n_art, max(1, round(n_art / ARTICLES_PER_PRODUCT)))
    types = V.PRODUCT_TYPES
    indices = V.INDICES
    # --- index and product type of every product
    allowed = np.zeros((len(indices), len(types)))
    for i, index in enumerate(indices):  # 10 x 69 table
        for t, ptype in enumerate(types):
            ok = ptype.group in index.groups
            ok &= not (ptype.only == "f" and index.kind == "m")
            ok &= not (ptype.only == "k" and index.kind != "k")
            allowed[i, t] = ptype.weight if ok else 0.0
    index_w = np.array([x.weight for x in indices])
    p_index = sample(rng, index_w / index_w.sum(), n_prod)
    p_type = np.empty(n_prod, dtype=np.int64)
    for i in range(len(indices)):
        mask = p_index == i
        p_type[mask] = sample(rng, allowed[i] / allowed[i].sum(), int(mask.sum()))
    # --- garment group, section, department
    gg_names = [g[1] for g in V.GARMENT_GROUPS]
    p_gg = np.empty(n_prod, dtype=np.int64)
    for t, ptype in enumerate(types):
        mask = p_type == t
        options = np.array([gg_names.index(g) for g in ptype.garment_groups])
        p_gg[mask] = options[rng.integers(0, options.size, int(mask.sum()))]
    kids = np.array([indices[i].kind == "k" for i in range(len(indices))])[p_index]
    girls = gg_names.index("Dresses/Skirts girls")
    p_gg = np.where(kids & np.isin(p_gg, [gg_names.index("Dresses Ladies"), gg_names.index("Skirts")]), girls, p_gg)
    baby = (p_index == [x.code for x in indices].index("G")) & np.isin(
        np.array([t.group for t in types])[p_type], V.GARMENTS
    )
    p_gg = np.where(baby & (rng.random(n_prod) < 0.5), gg_names.index("Woven/Jersey/Knitted mix Baby"), p_gg)
    p_gg = np.where(rng.random(n_prod) < 0.01, gg_names.index(V.SPECIAL_OFFERS), p_gg)
    group_of_type = np.array([t.group for t in types])
    p_group = group_of_type[p_type]
    p_section = np.empty(n_prod, dtype=np.int64)
    for i, index in enumerate(indices):
        secs = [j for j, s in enumerate(V.SECTIONS) if s[2] == index.code]
        for group in index.groups:
            mask = (p_index == i) & (p_group == group)
            if not mask.any():
                continue
            fits = [j for j in secs if V.SECTIONS[j][3] is None or group in V.SECTIONS[j][3]]  # type: ignore[operator]
            options = np.array(fits or secs[:1])
            p_section[mask] = options[rng.integers(0, options.size, int(mask.sum()))]
    dept_key = p_section * len(gg_names) + p_gg
    dept_keys, p_dept = np.unique(dept_key, return_inverse=True)
    dept_no = np.sort(rng.choice(np.arange(1000, 10000), size=dept_keys.size, replace=False))
    dept_no = dept_no[rng.permutation(dept_keys.size)]
    dept_gg = dept_keys % len(gg_names)
    # a department is named after its garment group, mostly prefixed by its section's first word ("Kids
    # Jersey Basic"); names repeat across sections, as in the real file (299 numbers, 250 names)
    name_pick = rng.integers(0, 1 << 30, dept_keys.size)
    prefixed = rng.random(dept_keys.size) < DEPT_PREFIXED
    dept_name = np.array(
        [
            (f"{V.SECTIONS[sec][1].split()[0]} " if pre else "")
            + V.GARMENT_GROUPS[g][2][int(x) % len(V.GARMENT_GROUPS[g][2])]
            for sec, g, x, pre in zip(dept_keys // len(gg_names), dept_gg, name_pick, prefixed, strict=True)
        ],
        dtype=object,
    )
    # --- life cycle, popularity, price per product
    early = rng.random(n_prod) < 0.2
    launch = np.where(early, -rng.integers(1, 200, n_prod), rng.integers(0, plan.n_days, n_prod))
    cat_key = p_index * len(types) + p_type
    _, first = np.unique(cat_key, return_index=True)
    launch[first] = -rng.integers(1, 60, first.size)  # every category sells from the start
    basic = rng.random(n_prod) < BASIC_SHARE
    tau = np.where(basic, rng.uniform(*BASIC_TAU, n_prod), rng.lognormal(np.log(FADE_TAU), 0.45, n_prod))
    p_base = rng.lognormal(0.0, BASE_SIGMA, n_prod)
    index_price = np.array([{"k": 0.7, "m": 1.1, "u": 1.0}.get(x.kind, 1.0) for x in indices])
    index_price[[x.code for x in indices].index("D")] = 0.8
    # types' typical prices, pulled towards their median: the real price spread is moderate
    type_price = np.array([t.price for t in types])
    type_price = PRICE_SCALE * np.median(type_price) * (type_price / np.median(type_price)) ** 0.6
    p_price = type_price[p_type] * index_price[p_index] * rng.lognormal(0.0, 0.25, n_prod)
    # --- product codes: increasing with launch day, as real codes grow over time
    codes = np.sort(rng.choice(np.arange(108775, 959462), size=n_prod, replace=False))
    order = np.argsort(launch + rng.normal(0, 60, n_prod), kind="stable")
    p_code = np.empty(n_prod, dtype=np.int64)
    p_code[order] = codes
    by_code = np.argsort(p_code)  # products in article-id order
    # --- colours: every product gets one, the rest are spread heavy-tailed
    extra = rng.multinomial(n_art - n_prod, normalize(rng.lognormal(0, 0.8, n_prod)))
    count = (1 + extra)[by_code]
    prod_of_article_sorted = np.repeat(np.arange(n_prod), count)  # position in by_code order
    a_prod = by_code[prod_of_article_sorted]
    start_sorted = np.concatenate([[0], np.cumsum(count)[:-1]])
    a_variant = np.arange(n_art) - start_sorted[prod_of_article_sorted] + 1
    colour_w = np.array([c[4] for c in V.COLOURS])
    a_colour = sample(rng, colour_w / colour_w.sum(), n_art)
    gra_w = np.array([g[1] for g in V.GRAPHICAL_APPEARANCES])
    a_graphic = sample(rng, gra_w / gra_w.sum(), n_art)
    a_base = p_base[a_prod] * rng.lognormal(0.0, 0.6, n_art)
    # hits: the top 1 - BASE_CAP of the articles sell HIT_BOOST times the cap, a crowd of similar hits
    # rather than a few giants, so the share of the week's top 12 hardly depends on the seed
    # as many hits as on the full catalogue down to the small one (10,000 articles): the 12 recommended
    # articles face the same crowd of hits; below it the crowd thins with the square of the catalogue, so
    # that hits stay a small part of a tiny one (16 of 1,000 articles, not a fifth)
    full_hits = round((1.0 - BASE_CAP) * SCALES["full"].articles)
    n_hits = min(full_hits, round(full_hits * (n_art / SCALES["small"].articles) ** 2))
    cap = np.sort(a_base)[n_art - max(n_hits, 1)]
    a_base = np.where(a_base >= cap, cap * HIT_BOOST, a_base)
    a_price = np.clip(p_price[a_prod] * rng.lognormal(0.0, 0.05, n_art), 2e-4, 0.59)
    price_units = np.maximum(1, np.round(a_price * PRICE_UNITS)).astype(np.int64)
    a_launch = launch[a_prod] + np.where(a_variant > 1, rng.integers(0, 30, n_art), 0)  # later colours
    # --- categories (index x type), each sorted by key so the numbering is deterministic
    cat_keys, a_cat = np.unique(cat_key[a_prod], return_inverse=True)
    ig_pos = {no: j for j, (no, _) in enumerate(V.INDEX_GROUPS)}
    cat_group = np.array([ig_pos[indices[i].group] for i in cat_keys // len(types)], dtype=np.int64)
    cat_type = cat_keys % len(types)
    # --- segment tastes (a separate stream, so that tastes do not depend on the article count)
    n_seg = len(V.SEGMENTS)
    group_pos = {g: j for j, g in enumerate(sorted(set(group_of_type)))}
    master_names = list(V.PERCEIVED_MASTERS.values())
    masters = {no: name for no, name in V.PERCEIVED_MASTERS.items()}
    colour_master = np.array([master_names.index(masters[c[3]]) for c in V.COLOURS])
    taste_group = np.ones((n_seg, len(group_pos)))
    for group, pull in V.GROUP_PULL.items():
        taste_group[:, group_pos[group]] = pull
    taste_master = np.ones((n_seg, len(master_names)))
    for s, seg in enumerate(V.SEGMENTS):
        for group, mult in seg.groups.items():
            taste_group[s, group_pos[group]] *= mult
        for name, mult in seg.colours.items():
            taste_master[s, master_names.index(name)] = mult
    type_group = np.array([group_pos[g] for g in group_of_type])
    # noise over all 10 x 69 possible categories, gathered: tastes do not depend on which ones exist
    noise = srng.lognormal(0.0, 0.5, (n_seg, len(indices) * len(types)))
    category_taste = taste_group[:, type_group[cat_type]] * noise[:, cat_keys]
    colour_taste = taste_master[:, colour_master] * srng.lognormal(0.0, 0.3, (n_seg, len(V.COLOURS)))
    gamma = np.array([seg.price_gamma for seg in V.SEGMENTS])
    rel_price = price_units / np.median(price_units)
    static = colour_taste[:, a_colour] * rel_price[None, :] ** gamma[:, None]
    # --- the groups of the favourite key (world 0: index x product type x colour master, the sub-category)
    a_master = colour_master[a_colour]
    cat_order = np.lexsort((np.arange(n_art), a_master, a_cat))  # by category, colour master, row
    cat_count = np.bincount(a_cat, minlength=cat_keys.size)
    prod_group = np.array([ig_pos[x.group] for x in indices])[p_index]
    value_pos = {no: j for j, no in enumerate(V.PERCEIVED_VALUES)}
    attributes = {
        "product_type_no": p_type[a_prod],
        "product_group_name": type_group[p_type[a_prod]],
        "graphical_appearance_no": a_graphic,
        "colour_group_code": a_colour,
        "perceived_colour_value_id": np.array([value_pos[c[2]] for c in V.COLOURS])[a_colour],
        "perceived_colour_master_id": a_master,
        "department_no": p_dept[a_prod],
        "index_code": p_index[a_prod],
        "index_group_no": prod_group[a_prod],
        "section_no": p_section[a_prod],
        "garment_group_no": p_gg[a_prod],
    }
    assert tuple(attributes) == FAVOURITE_COLUMNS
    a_fav = key_groups(attributes, favourite_key)
    fav_order = np.lexsort((np.arange(n_art), a_fav))
    fav_count = np.bincount(a_fav)
    _, fav_first = np.unique(a_fav, return_index=True)
    a_launch[fav_first] = np.minimum(a_launch[fav_first], -rng.integers(1, 60, fav_first.size))  # sells from day 0
    # --- co-purchase partners: products launched close together in one index group go together
    by_launch = np.lexsort((launch + rng.normal(0.0, PARTNER_SPREAD, n_prod), prod_group))
    rank_launch = np.empty(n_prod, dtype=np.int64)
    rank_launch[by_launch] = np.arange(n_prod)
    offsets = np.array([o for o in range(-N_PARTNERS, N_PARTNERS + 1) if o != 0])
    pick_off = offsets[np.argsort(rng.random((n_prod, offsets.size)), axis=1)[:, :N_PARTNERS]]
    partner_pos = rank_launch[:, None] + pick_off
    partner_pos = np.where((partner_pos < 0) | (partner_pos >= n_prod), rank_launch[:, None] - pick_off, partner_pos)
    partner_prod = by_launch[np.clip(partner_pos, 0, n_prod - 1)]
    product_start = np.empty(n_prod, dtype=np.int64)
    product_start[by_code] = start_sorted
    product_count = np.empty(n_prod, dtype=np.int64)
    product_count[by_code] = count
    partner_art = product_start[partner_prod] + np.floor(
        rng.random(partner_prod.shape) * product_count[partner_prod]
    ).astype(np.int64)
    # --- the frame
    frame = _article_frame(
        rng,
        n_prod,
        p_code,
        p_type,
        p_index,
        p_section,
        p_gg,
        p_dept,
        dept_no,
        dept_name,
        a_prod,
        a_variant,
        a_colour,
        a_graphic,
    )
    return Articles(
        frame=frame,
        product=a_prod,
        product_start=product_start,
        product_count=product_count,
        category=a_cat.astype(np.int64),
        cat_order=cat_order,
        cat_start=np.cumsum(cat_count) - cat_count,
        cat_count=cat_count,
        attributes=attributes,
        fav_group=a_fav,
        fav_order=fav_order,
        fav_start=np.cumsum(fav_count) - fav_count,
        fav_count=fav_count,
        partners=partner_art[a_prod],
        category_group=cat_group,
        category_type=cat_type,
        category_taste=category_taste,
        static=static,
        base=a_base,
        launch=a_launch,
        tau=tau[a_prod],
        price_units=price_units,
        ids=frame["article_id"],
    )


def key_groups(attributes: dict[str, np.ndarray], key: tuple[str, ...]) -> np.ndarray:
    """Every article's group of ``key`` (attribute columns): groups numbered by the columns' positions, the
    first column most significant, so that a key's numbering does not depend on the catalogue's order."""
    code = np.zeros(next(iter(attributes.values())).size, dtype=np.int64)
    for column in key:
        values = attributes[column]
        code = code * (int(values.max()) + 1) + values
    return np.unique(code, return_inverse=True)[1].astype(np.int64)


def _article_frame(
    rng: np.random.Generator,
    n_prod: int,
    p_code: np.ndarray,
    p_type: np.ndarray,
    p_index: np.ndarray,
    p_section: np.ndarray,
    p_gg: np.ndarray,
    p_dept: np.ndarray,
    dept_no: np.ndarray,
    dept_name: np.ndarray,
    a_prod: np.ndarray,
    a_variant: np.ndarray,
    a_colour: np.ndarray,
    a_graphic: np.ndarray,
) -> pl.DataFrame:
    """articles.csv in the published column order; names and descriptions composed from word lists."""
    types = V.PRODUCT_TYPES
    words = pl.DataFrame(
        {
            "model": word_series(V.MODEL_NAMES, rng.integers(0, len(V.MODEL_NAMES), n_prod)),
            "mod": word_series(V.NAME_MODIFIERS, rng.integers(0, len(V.NAME_MODIFIERS), n_prod)),
            "type": word_series([t.name for t in types], p_type),
            "adj": word_series(V.ADJECTIVES, rng.integers(0, len(V.ADJECTIVES), n_prod)),
            "mat": word_series(V.MATERIALS, rng.integers(0, len(V.MATERIALS), n_prod)),
            "f1": word_series(V.FEATURES, rng.integers(0, len(V.FEATURES), n_prod)),
            "f2": word_series(V.FEATURES, rng.integers(0, len(V.FEATURES), n_prod)),
            "two": rng.random(n_prod) < 0.6,
            "missing": rng.random(n_prod) < 0.009,
        }
    )
    text = words.select(
        pl.when(pl.col("mod") == "")
        .then(pl.concat_str("model", "type", separator=" "))
        .otherwise(pl.concat_str("model", "mod", "type", separator=" "))
        .alias("prod_name"),
        pl.when(pl.col("missing"))
        .then(None)
        .when(pl.col("two") & (pl.col("f1") != pl.col("f2")))
        .then(
            pl.concat_str(
                pl.col("adj"),
                pl.lit(" "),
                pl.col("type").str.to_lowercase(),
                pl.lit(" in "),
                pl.col("mat"),
                pl.lit(" with "),
                pl.col("f1"),
                pl.lit(" and "),
                pl.col("f2"),
                pl.lit("."),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.col("adj"),
                pl.lit(" "),
                pl.col("type").str.to_lowercase(),
                pl.lit(" in "),
                pl.col("mat"),
                pl.lit(" with "),
                pl.col("f1"),
                pl.lit("."),
            )
        )
        .alias("detail_desc"),
    )
    sec = V.SECTIONS
    idx = V.INDICES
    ig = dict(V.INDEX_GROUPS)
    colours = V.COLOURS
    a_index = p_index[a_prod]
    a_section = p_section[a_prod]
    a_gg = p_gg[a_prod]
    a_type = p_type[a_prod]
    code = p_code[a_prod]

    def pick(table: list[Any], positions: np.ndarray, dtype: Any) -> pl.Series:
        return pl.Series(table).cast(dtype).gather(positions)

    ga_no = [1010001 + j if g[0] != "Unknown" else -1 for j, g in enumerate(V.GRAPHICAL_APPEARANCES)]
    columns = {
        "article_id": pl.Series(code * 1000 + a_variant).cast(pl.String).str.zfill(10),
        "product_code": pl.Series(code, dtype=pl.Int64),
        "prod_name": text["prod_name"].gather(a_prod),
        "product_type_no": pick([t.no for t in types], a_type, pl.Int64),
        "product_type_name": pick([t.name for t in types], a_type, pl.String),
        "product_group_name": pick([t.group for t in types], a_type, pl.String),
        "graphical_appearance_no": pick(ga_no, a_graphic, pl.Int64),
        "graphical_appearance_name": pick([g[0] for g in V.GRAPHICAL_APPEARANCES], a_graphic, pl.String),
        "colour_group_code": pick([c[0] for c in colours], a_colour, pl.Int64),
        "colour_group_name": pick([c[1] for c in colours], a_colour, pl.String),
        "perceived_colour_value_id": pick([c[2] for c in colours], a_colour, pl.Int64),
        "perceived_colour_value_name": pick([V.PERCEIVED_VALUES[c[2]] for c in colours], a_colour, pl.String),
        "perceived_colour_master_id": pick([c[3] for c in colours], a_colour, pl.Int64),
        "perceived_colour_master_name": pick([V.PERCEIVED_MASTERS[c[3]] for c in colours], a_colour, pl.String),
        "department_no": pl.Series(dept_no[p_dept[a_prod]], dtype=pl.Int64),
        "department_name": pl.Series(list(dept_name), dtype=pl.String).gather(p_dept[a_prod]),
        "index_code": pick([x.code for x in idx], a_index, pl.String),
        "index_name": pick([x.name for x in idx], a_index, pl.String),
        "index_group_no": pick([x.group for x in idx], a_index, pl.Int64),
        "index_group_name": pick([ig[x.group] for x in idx], a_index, pl.String),
        "section_no": pick([s[0] for s in sec], a_section, pl.Int64),
        "section_name": pick([s[1] for s in sec], a_section, pl.String),
        "garment_group_no": pick([g[0] for g in V.GARMENT_GROUPS], a_gg, pl.Int64),
        "garment_group_name": pick([g[1] for g in V.GARMENT_GROUPS], a_gg, pl.String),
        "detail_desc": text["detail_desc"].gather(a_prod),
    }
    frame = pl.DataFrame([s.alias(name) for name, s in columns.items()])
    assert tuple(frame.columns) == ARTICLE_COLUMNS
    return frame
