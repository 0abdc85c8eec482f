"""A CSS colour for each of H&M's colour group names (``Dark Blue``, ``Light Pink``, ``Greenish Khaki``, ...).

The names are a base colour with an optional modifier; the base gives the hue, ``Light``/``Dark`` mix it
with white/black. A name that is not recognised gets a neutral grey rather than a wrong colour.
"""

from __future__ import annotations

from functools import lru_cache

UNKNOWN = "#c8c8c8"
_BASES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "white": (250, 250, 250),
    "off white": (240, 236, 222),
    "beige": (214, 192, 160),
    "greyish beige": (190, 178, 160),
    "grey": (140, 140, 140),
    "blue": (45, 95, 190),
    "turquoise": (40, 180, 180),
    "pink": (236, 140, 170),
    "red": (200, 35, 45),
    "orange": (240, 130, 40),
    "yellow": (240, 210, 50),
    "green": (60, 150, 70),
    "greenish khaki": (130, 130, 80),
    "khaki green": (110, 120, 70),
    "yellowish green": (160, 190, 60),
    "bluish green": (40, 140, 120),
    "brown": (120, 80, 45),
    "yellowish brown": (160, 120, 50),
    "mole": (120, 105, 95),
    "purple": (120, 60, 150),
    "lilac purple": (180, 150, 210),
    "gold": (212, 175, 55),
    "silver": (192, 192, 200),
    "bronze/copper": (184, 115, 51),
    "metal": (170, 170, 180),
}


def _mix(rgb: tuple[int, int, int], target: int, share: float) -> tuple[int, int, int]:
    r, g, b = (round(c + (target - c) * share) for c in rgb)
    return r, g, b


@lru_cache(maxsize=512)
def colour_hex(name: str | None) -> str:
    """``#rrggbb`` for a colour group name (case-insensitive); grey for unknown names."""
    if not name:
        return UNKNOWN
    key = name.strip().lower()
    modifier = ""
    for prefix in ("light ", "dark ", "other "):
        if key.startswith(prefix) and key[len(prefix):] in _BASES:
            modifier, key = prefix.strip(), key[len(prefix):]
    rgb = _BASES.get(key)
    if rgb is None:
        return UNKNOWN
    if modifier == "light":
        rgb = _mix(rgb, 255, 0.45)
    elif modifier == "dark":
        rgb = _mix(rgb, 0, 0.4)
    return "#{:02x}{:02x}{:02x}".format(*rgb)
