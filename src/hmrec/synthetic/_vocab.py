"""Tables and word lists of the synthetic generator: the article hierarchy and the customer segments.

Names and codes imitate the published H&M files (index groups, product groups, colour groups, ...). Weights
are article shares (how many articles of a kind exist) or segment tastes; the generator turns them into
transaction shares, calibrated so that the marginals of the published facts come out (Ladieswear about 64 %
of transactions, "Garment Upper body" about 40 %, Black about 35 %).
"""

from __future__ import annotations

from typing import NamedTuple

# ------------------------------------------------------------------------------------------- product groups
UPPER = "Garment Upper body"
LOWER = "Garment Lower body"
FULL = "Garment Full body"
ACC = "Accessories"
UNDER = "Underwear"
SHOES = "Shoes"
SWIM = "Swimwear"
SOCKS = "Socks & Tights"
NIGHT = "Nightwear"
UNKNOWN = "Unknown"
UNDER_NIGHT = "Underwear/nightwear"
COSMETIC = "Cosmetic"
BAGS = "Bags"
ITEMS = "Items"
FURNITURE = "Furniture"
CARE = "Garment and Shoe care"
STATIONERY = "Stationery"
INTERIOR = "Interior textile"
FUN = "Fun"
GARMENTS = (UPPER, LOWER, FULL)

# ------------------------------------------------------------------------------------------- garment groups
GARMENT_GROUPS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    # (garment_group_no, garment_group_name, department names used under it)
    (1002, "Jersey Basic", ("Jersey Basic", "Basic 1", "Jersey", "Tops Basic")),
    (1005, "Jersey Fancy", ("Jersey Fancy", "Jersey fancy", "Tops Fancy Jersey", "Jersey Occasion")),
    (1003, "Knitwear", ("Knitwear", "Tops Knitwear", "Knit & Woven")),
    (1009, "Trousers", ("Trousers", "Trouser", "Casual Trousers")),
    (1016, "Trousers Denim", ("Denim Trousers", "Denim", "Jeans")),
    (1010, "Blouses", ("Blouse", "Woven Tops", "Blouse & Dress")),
    (1011, "Shirts", ("Shirt", "Shirt Extended", "Woven top")),
    (1013, "Dresses Ladies", ("Dresses", "Dress", "Woven Dresses")),
    (1023, "Dresses/Skirts girls", ("Dresses & Skirts", "Girls Dresses")),
    (1012, "Skirts", ("Skirt", "Skirts")),
    (1025, "Shorts", ("Shorts", "Shorts & Skirts")),
    (1006, "Outdoor", ("Outwear", "Jacket", "Outdoor/Blazers", "Outerwear")),
    (1001, "Unknown", ("Other items", "Unknown")),
    (1017, "Under-, Nightwear", ("Underwear", "Nightwear", "Expressive Lingerie", "Casual Lingerie")),
    (1019, "Accessories", ("Accessories", "Small Accessories", "Big accessories", "Jewellery")),
    (1020, "Shoes", ("Shoes", "Sneakers", "Boots")),
    (1018, "Swimwear", ("Swimwear", "Beachwear", "Swimwear & Beach")),
    (1021, "Socks and Tights", ("Socks", "Tights", "Socks Bin")),
    (1014, "Special Offers", ("Special Collection", "Campaigns")),
    (1008, "Dressed", ("Tailoring", "Suit", "Blazer")),
    (1007, "Woven/Jersey/Knitted mix Baby", ("Baby Basics", "Baby Essentials", "Baby Girl", "Baby Boy")),
)
SPECIAL_OFFERS = "Special Offers"


class ProductType(NamedTuple):
    """One product type: its number and name, its product group, the garment groups it is made in, how
    many articles of it exist (relative weight), its typical price, whether it is women's only ("f") or
    children's only ("k"), and its season ("s" summer, "w" winter, "" all year)."""

    no: int
    name: str
    group: str
    weight: float
    price: float
    garment_groups: tuple[str, ...]
    only: str = ""
    season: str = ""


PRODUCT_TYPES: tuple[ProductType, ...] = (
    ProductType(255, "T-shirt", UPPER, 9.0, 0.015, ("Jersey Basic", "Jersey Fancy")),
    ProductType(253, "Vest top", UPPER, 6.0, 0.012, ("Jersey Basic", "Jersey Fancy"), season="s"),
    ProductType(252, "Sweater", UPPER, 8.0, 0.033, ("Knitwear", "Jersey Fancy"), season="w"),
    ProductType(254, "Top", UPPER, 6.0, 0.02, ("Jersey Fancy", "Blouses")),
    ProductType(258, "Blouse", UPPER, 5.0, 0.03, ("Blouses",), only="f"),
    ProductType(259, "Shirt", UPPER, 3.0, 0.03, ("Shirts", "Blouses")),
    ProductType(245, "Hoodie", UPPER, 3.0, 0.03, ("Jersey Fancy",), season="w"),
    ProductType(257, "Cardigan", UPPER, 2.0, 0.033, ("Knitwear",), season="w"),
    ProductType(264, "Jacket", UPPER, 2.5, 0.05, ("Outdoor", "Dressed"), season="w"),
    ProductType(262, "Coat", UPPER, 1.0, 0.07, ("Outdoor",), season="w"),
    ProductType(260, "Blazer", UPPER, 1.0, 0.05, ("Dressed",)),
    ProductType(256, "Polo shirt", UPPER, 0.5, 0.02, ("Jersey Basic",)),
    ProductType(261, "Bodysuit", UPPER, 1.5, 0.015, ("Jersey Fancy",)),
    ProductType(263, "Tailored Waistcoat", UPPER, 0.2, 0.04, ("Dressed",)),
    ProductType(272, "Trousers", LOWER, 12.0, 0.035, ("Trousers", "Trousers Denim")),
    ProductType(274, "Shorts", LOWER, 3.0, 0.02, ("Shorts",), season="s"),
    ProductType(273, "Leggings/Tights", LOWER, 3.0, 0.017, ("Jersey Basic", "Trousers")),
    ProductType(275, "Skirt", LOWER, 3.0, 0.025, ("Skirts",), only="f"),
    ProductType(276, "Outdoor trousers", LOWER, 0.3, 0.05, ("Outdoor",), season="w"),
    ProductType(265, "Dress", FULL, 11.0, 0.035, ("Dresses Ladies", "Jersey Fancy"), only="f", season="s"),
    ProductType(267, "Jumpsuit/Playsuit", FULL, 1.0, 0.03, ("Jersey Fancy", "Dresses Ladies"), only="f"),
    ProductType(268, "Garment Set", FULL, 1.0, 0.02, ("Jersey Fancy", "Woven/Jersey/Knitted mix Baby")),
    ProductType(269, "Dungarees", FULL, 0.3, 0.025, ("Trousers Denim",)),
    ProductType(270, "Outdoor overall", FULL, 0.2, 0.04, ("Outdoor",), only="k", season="w"),
    ProductType(306, "Bra", UNDER, 3.5, 0.022, ("Under-, Nightwear",), only="f"),
    ProductType(286, "Underwear bottom", UNDER, 4.0, 0.008, ("Under-, Nightwear",)),
    ProductType(298, "Underwear body", UNDER, 0.5, 0.02, ("Under-, Nightwear",), only="f"),
    ProductType(299, "Kids Underwear top", UNDER, 0.5, 0.01, ("Under-, Nightwear",), only="k"),
    ProductType(296, "Long John", UNDER, 0.2, 0.012, ("Under-, Nightwear",), season="w"),
    ProductType(302, "Socks", SOCKS, 2.5, 0.006, ("Socks and Tights",)),
    ProductType(304, "Underwear Tights", SOCKS, 1.0, 0.01, ("Socks and Tights",)),
    ProductType(59, "Swimwear bottom", SWIM, 2.0, 0.012, ("Swimwear",), season="s"),
    ProductType(60, "Bikini top", SWIM, 2.0, 0.015, ("Swimwear",), only="f", season="s"),
    ProductType(57, "Swimsuit", SWIM, 1.0, 0.025, ("Swimwear",), only="f", season="s"),
    ProductType(61, "Swimwear set", SWIM, 0.3, 0.02, ("Swimwear",), only="k", season="s"),
    ProductType(291, "Pyjama set", NIGHT, 1.2, 0.025, ("Under-, Nightwear",)),
    ProductType(292, "Pyjama bottom", NIGHT, 0.5, 0.015, ("Under-, Nightwear",)),
    ProductType(293, "Night gown", NIGHT, 0.3, 0.02, ("Under-, Nightwear",), only="f"),
    ProductType(294, "Robe", NIGHT, 0.2, 0.03, ("Under-, Nightwear",)),
    ProductType(87, "Sneakers", SHOES, 0.8, 0.04, ("Shoes",)),
    ProductType(89, "Boots", SHOES, 0.4, 0.06, ("Shoes",), season="w"),
    ProductType(90, "Sandals", SHOES, 0.5, 0.025, ("Shoes",), season="s"),
    ProductType(93, "Ballerinas", SHOES, 0.2, 0.025, ("Shoes",), only="f"),
    ProductType(88, "Other shoe", SHOES, 0.3, 0.03, ("Shoes",)),
    ProductType(67, "Belt", ACC, 0.4, 0.015, ("Accessories",)),
    ProductType(72, "Earring", ACC, 0.8, 0.008, ("Accessories",)),
    ProductType(71, "Necklace", ACC, 0.4, 0.01, ("Accessories",)),
    ProductType(74, "Hair/alice band", ACC, 0.4, 0.006, ("Accessories",)),
    ProductType(66, "Bag", ACC, 1.0, 0.03, ("Accessories",)),
    ProductType(70, "Hat/beanie", ACC, 0.7, 0.012, ("Accessories",), season="w"),
    ProductType(69, "Scarf", ACC, 0.6, 0.015, ("Accessories",), season="w"),
    ProductType(73, "Sunglasses", ACC, 0.4, 0.012, ("Accessories",), season="s"),
    ProductType(76, "Gloves", ACC, 0.2, 0.01, ("Accessories",), season="w"),
    ProductType(78, "Hair clip", ACC, 0.3, 0.005, ("Accessories",)),
    ProductType(80, "Watch", ACC, 0.1, 0.03, ("Accessories",)),
    ProductType(75, "Wallet", ACC, 0.2, 0.015, ("Accessories",)),
    ProductType(77, "Cap/peaked", ACC, 0.3, 0.012, ("Accessories",), season="s"),
    ProductType(79, "Ring", ACC, 0.2, 0.008, ("Accessories",)),
    ProductType(-1, "Unknown", UNKNOWN, 0.1, 0.02, ("Unknown",)),
    ProductType(308, "Sleeping sack", UNDER_NIGHT, 0.1, 0.02, ("Under-, Nightwear",), only="k"),
    ProductType(82, "Chem. cosmetics", COSMETIC, 0.05, 0.01, ("Accessories",)),
    ProductType(84, "Backpack", BAGS, 0.1, 0.03, ("Accessories",)),
    ProductType(85, "Umbrella", ITEMS, 0.03, 0.02, ("Accessories",)),
    ProductType(86, "Keychain", ITEMS, 0.03, 0.005, ("Accessories",)),
    ProductType(520, "Side table", FURNITURE, 0.01, 0.05, ("Unknown",), only="k"),
    ProductType(521, "Clothing mist", CARE, 0.02, 0.008, ("Unknown",)),
    ProductType(522, "Marker pen", STATIONERY, 0.01, 0.004, ("Unknown",), only="k"),
    ProductType(523, "Blanket", INTERIOR, 0.02, 0.03, ("Unknown",), only="k"),
    ProductType(524, "Toy", FUN, 0.03, 0.01, ("Unknown",), only="k"),
)

# ------------------------------------------------------------------------------------------------ indices
INDEX_GROUPS: tuple[tuple[int, str], ...] = (
    (1, "Ladieswear"),
    (2, "Divided"),
    (3, "Menswear"),
    (4, "Baby/Children"),
    (26, "Sport"),
)


class Index(NamedTuple):
    """An index (A, B, ...): its group, its share of the articles, the product groups it sells, whether
    it is for children (only children's types allowed) or men (no women's-only types)."""

    code: str
    name: str
    group: int
    weight: float
    groups: tuple[str, ...]
    kind: str  # "w" women, "m" men, "k" children, "u" unisex


_KIDS_MISC = (INTERIOR, FUN, FURNITURE, STATIONERY)
INDICES: tuple[Index, ...] = (
    Index("A", "Ladieswear", 1, 0.22, (*GARMENTS, UNKNOWN), "w"),
    Index("B", "Lingeries/Tights", 1, 0.08, (UNDER, SOCKS, NIGHT, SWIM, UNDER_NIGHT), "w"),
    Index("C", "Ladies Accessories", 1, 0.08, (ACC, SHOES, BAGS, COSMETIC, ITEMS), "w"),
    Index("D", "Divided", 2, 0.15, (*GARMENTS, ACC, SHOES, UNDER, SWIM, SOCKS), "w"),
    Index("F", "Menswear", 3, 0.12, (*GARMENTS, UNDER, SOCKS, SHOES, ACC, SWIM, NIGHT, CARE), "m"),
    Index("G", "Baby Sizes 50-98", 4, 0.09, (*GARMENTS, UNDER_NIGHT, NIGHT, SOCKS, ACC, *_KIDS_MISC), "k"),
    Index(
        "H", "Children Sizes 92-140", 4, 0.11, (*GARMENTS, UNDER, NIGHT, SOCKS, SWIM, ACC, SHOES, FUN), "k"
    ),
    Index("I", "Children Sizes 134-170", 4, 0.08, (*GARMENTS, UNDER, SOCKS, SWIM, ACC, SHOES, NIGHT), "k"),
    Index("J", "Children Accessories, Swimwear", 4, 0.03, (ACC, SWIM, SHOES, SOCKS, ITEMS, STATIONERY), "k"),
    Index("S", "Sport", 26, 0.04, (*GARMENTS, UNDER, SOCKS, SWIM, ACC, SHOES), "u"),
)

# Sections: (section_no, name, index code, product groups carried; None = everything the index sells).
SECTIONS: tuple[tuple[int, str, str, tuple[str, ...] | None], ...] = (
    (16, "Womens Everyday Collection", "A", None),
    (6, "Womens Tailoring", "A", GARMENTS),
    (15, "Womens Casual", "A", None),
    (11, "Womens Trend", "A", None),
    (18, "Womens Premium", "A", GARMENTS),
    (14, "Mama", "A", None),
    (19, "Womens Everyday Basics", "A", (UPPER, LOWER)),
    (61, "Womens Lingerie", "B", (UNDER, UNDER_NIGHT)),
    (62, "Womens Nightwear, Socks & Tigh", "B", (NIGHT, SOCKS)),
    (60, "Womens Swimwear, beachwear", "B", (SWIM,)),
    (66, "Womens Small accessories", "C", (ACC, COSMETIC, ITEMS)),
    (65, "Womens Big accessories", "C", (ACC, BAGS)),
    (64, "Womens Shoes", "C", (SHOES,)),
    (53, "Divided Collection", "D", None),
    (51, "Divided Basics", "D", (UPPER, LOWER, UNDER, SOCKS)),
    (52, "Divided Projects", "D", None),
    (50, "Divided Accessories", "D", (ACC, SHOES)),
    (57, "Ladies Denim", "D", GARMENTS),
    (23, "Men Underwear", "F", (UNDER, SOCKS, NIGHT, SWIM)),
    (20, "Mens Outerwear", "F", (UPPER,)),
    (21, "Men Suits & Tailoring", "F", (UPPER, LOWER)),
    (26, "Contemporary Casual", "F", None),
    (27, "Contemporary Smart", "F", None),
    (28, "Contemporary Street", "F", None),
    (25, "Men Accessories", "F", (ACC, CARE)),
    (24, "Men Shoes", "F", (SHOES,)),
    (41, "Baby Essentials & Complements", "G", None),
    (42, "Baby Girl", "G", None),
    (43, "Baby Boy", "G", GARMENTS),
    (44, "Kids Girl", "H", None),
    (45, "Kids Boy", "H", None),
    (46, "Kids Outerwear", "H", GARMENTS),
    (47, "Girls Underwear & Basics", "H", (UNDER, NIGHT, SOCKS, UPPER, LOWER)),
    (48, "Boys Underwear & Basics", "H", (UNDER, NIGHT, SOCKS, UPPER, LOWER)),
    (72, "Kids & Baby Shoes", "H", (SHOES,)),
    (77, "Young Girl", "I", None),
    (76, "Young Boy", "I", None),
    (79, "Kids Sports", "I", (*GARMENTS, SOCKS)),
    (80, "Kids Accessories, Swimwear & D", "J", None),
    (5, "Ladies H&M Sport", "S", None),
    (4, "Men H&M Sport", "S", None),
)

# ------------------------------------------------------------------------------------------------ colours
PERCEIVED_VALUES: dict[int, str] = {
    -1: "Unknown",
    1: "Dusty Light",
    2: "Medium Dusty",
    3: "Light",
    4: "Dark",
    5: "Bright",
    6: "Undefined",
    7: "Medium",
}
PERCEIVED_MASTERS: dict[int, str] = {
    5: "Black",
    9: "White",
    2: "Blue",
    11: "Beige",
    12: "Grey",
    4: "Pink",
    18: "Red",
    19: "Green",
    20: "Khaki green",
    6: "Orange",
    8: "Yellow",
    13: "Brown",
    15: "Lilac Purple",
    3: "Turquoise",
    7: "Metal",
    1: "Mole",
    10: "Bluish Green",
    14: "Yellowish Brown",
    17: "Undefined",
    -1: "undefined",
}
# (colour_group_code, colour_group_name, perceived value id, perceived master id, share of articles)
COLOURS: tuple[tuple[int, str, int, int, float], ...] = (
    (9, "Black", 4, 5, 28.0),
    (10, "White", 3, 9, 6.5),
    (73, "Dark Blue", 4, 2, 6.0),
    (7, "Grey", 2, 12, 2.0),
    (8, "Dark Grey", 4, 12, 2.0),
    (6, "Light Grey", 3, 12, 1.2),
    (13, "Beige", 1, 11, 4.0),
    (11, "Off White", 1, 9, 3.0),
    (12, "Light Beige", 1, 11, 2.0),
    (72, "Blue", 7, 2, 2.5),
    (71, "Light Blue", 3, 2, 3.0),
    (74, "Other Blue", 6, 2, 0.3),
    (51, "Light Pink", 3, 4, 3.5),
    (52, "Pink", 2, 4, 2.0),
    (53, "Dark Pink", 4, 4, 0.6),
    (50, "Other Pink", 6, 4, 0.3),
    (42, "Red", 5, 18, 1.5),
    (43, "Dark Red", 4, 18, 1.5),
    (41, "Light Red", 3, 18, 0.4),
    (40, "Other Red", 6, 18, 0.2),
    (33, "Dark Orange", 4, 6, 0.6),
    (32, "Orange", 5, 6, 0.6),
    (31, "Light Orange", 3, 6, 0.4),
    (30, "Other Orange", 6, 6, 0.1),
    (23, "Dark Yellow", 4, 8, 0.8),
    (22, "Yellow", 5, 8, 0.7),
    (21, "Light Yellow", 3, 8, 0.4),
    (20, "Other Yellow", 6, 8, 0.1),
    (19, "Greenish Khaki", 2, 20, 0.6),
    (17, "Yellowish Green", 5, 19, 0.3),
    (63, "Dark Green", 4, 19, 1.2),
    (62, "Green", 7, 19, 0.8),
    (61, "Light Green", 3, 19, 0.6),
    (60, "Other Green", 6, 19, 0.1),
    (93, "Dark Turquoise", 4, 3, 0.5),
    (92, "Turquoise", 5, 3, 0.3),
    (91, "Light Turquoise", 3, 3, 0.3),
    (83, "Dark Purple", 4, 15, 0.4),
    (82, "Purple", 5, 15, 0.3),
    (81, "Light Purple", 3, 15, 0.4),
    (15, "Mole", 2, 1, 0.5),
    (14, "Greyish Beige", 2, 11, 0.6),
    (16, "Dark Beige", 4, 11, 0.6),
    (90, "Other Turquoise", 6, 3, 0.05),
    (70, "Other", 6, 17, 0.2),
    (3, "Silver", 5, 7, 0.5),
    (5, "Gold", 5, 7, 0.7),
    (4, "Bronze/Copper", 5, 7, 0.2),
    (1, "Other Beige", 6, 14, 0.3),
    (-1, "Unknown", -1, -1, 0.05),
)

# (name, share of articles)
GRAPHICAL_APPEARANCES: tuple[tuple[str, float], ...] = (
    ("Solid", 49.0),
    ("All over pattern", 17.0),
    ("Melange", 5.5),
    ("Stripe", 4.5),
    ("Denim", 3.5),
    ("Placement print", 3.0),
    ("Check", 2.0),
    ("Front print", 2.0),
    ("Lace", 1.0),
    ("Dot", 1.0),
    ("Other structure", 1.5),
    ("Contrast", 0.5),
    ("Treatment", 0.5),
    ("Metallic", 0.5),
    ("Colour blocking", 0.4),
    ("Jacquard", 0.4),
    ("Glittering/Metallic", 0.3),
    ("Embroidery", 0.3),
    ("Mixed solid/pattern", 0.5),
    ("Other pattern", 0.5),
    ("Neps", 0.1),
    ("Sequin", 0.2),
    ("Chambray", 0.1),
    ("Mesh", 0.1),
    ("Slub", 0.1),
    ("Transparent", 0.1),
    ("Argyle", 0.05),
    ("Hologram", 0.02),
    ("Application/3D", 0.3),
    ("Unknown", 0.05),
)

# ------------------------------------------------------------------------------------------------ words
MODEL_NAMES: tuple[str, ...] = (
    "Jade", "Luna", "Tilly", "Mia", "Kenny", "Ben", "Timeless", "Perrie", "Haven", "Bella", "Sara", "Emma",
    "Olivia", "Nora", "Ella", "Alva", "Maja", "Wilma", "Lisa", "Anna", "Ida", "Vera", "Stella", "Selma",
    "Elsa", "Ebba", "Alice", "Clara", "Freja", "Hanna", "Ines", "Julia", "Karin", "Lola", "Molly", "Nova",
    "Ronja", "Saga", "Tova", "Wera", "Yara", "Zoe", "Abby", "Becca", "Cleo", "Dolly", "Edie", "Fiona",
    "Greta", "Hazel", "Iris", "Jolie", "Kiki", "Lena", "Mimi", "Nelly", "Opal", "Pam", "Queen", "Rosie",
    "Suzy", "Tess", "Uma", "Vicky", "Wendy", "Xena", "Yvonne", "Zara", "Adam", "Bruno", "Carl", "Dan",
    "Erik", "Felix", "Gus", "Hugo", "Ivan", "Jack", "Karl", "Leo", "Max", "Nils", "Otto", "Pablo", "Rex",
    "Sam", "Theo", "Ulf", "Viktor", "Walt", "York", "Zack", "Ace", "Bolt", "Cosmo", "Dex", "Echo", "Flash",
    "Ginger", "Honey", "Indigo", "Jazz", "Kite", "Lemon", "Mango", "Nutmeg", "Olive", "Pepper", "Quinoa",
    "Rio", "Sky", "Tango", "Ultra", "Velvet", "Willow", "Cherry", "Daisy", "Poppy", "Maple", "Cedar",
    "Pine", "Storm", "Coral", "Pearl", "Ruby", "Amber", "Jasper", "Onyx", "Topaz", "Sienna", "Marble",
    "Dune", "Mistral", "Breeze", "Harbor", "Meadow", "Prairie", "Summit", "Canyon", "Sierra", "Tundra",
    "Lagoon", "Marina", "Bay", "Cove", "Reef"
)
NAME_MODIFIERS: tuple[str, ...] = (
    "",
    "",
    "",
    "",
    "HW",
    "Slim",
    "Skinny",
    "Regular",
    "Relaxed",
    "Wide",
    "Basic",
    "Rib",
    "Linen",
    "Cotton",
    "Knit",
    "Printed",
    "2-pack",
    "3p",
    "Denim",
    "Jersey",
    "Oversized",
    "Cropped",
    "Fancy",
    "Soft",
    "Padded",
    "Push",
    "Seamless",
    "Mom",
    "Straight",
    "Boxy",
)
MATERIALS: tuple[str, ...] = (
    "soft cotton jersey",
    "sturdy cotton twill",
    "washed denim",
    "stretch denim",
    "rib-knit cotton",
    "soft, fine-knit fabric",
    "woven viscose",
    "airy linen",
    "chiffon",
    "lace",
    "soft sweatshirt fabric",
    "thick jersey",
    "satin",
    "crêpe fabric",
    "organic cotton",
    "recycled polyester",
    "mesh",
    "faux leather",
    "corduroy",
    "wool-blend fabric",
    "microfibre",
    "stretch jersey",
    "slub jersey",
    "textured-weave fabric",
)
ADJECTIVES: tuple[str, ...] = (
    "Fitted",
    "Relaxed-fit",
    "Short",
    "Long",
    "Oversized",
    "Cropped",
    "Straight-cut",
    "Loose-fitting",
    "Soft",
    "Wide-cut",
    "Slim-fit",
    "Calf-length",
    "Knee-length",
    "Sleeveless",
    "Long-sleeved",
    "Boxy",
    "Padded",
    "Lightweight",
    "Regular-fit",
    "Tapered",
)
FEATURES: tuple[str, ...] = (
    "a round neckline",
    "a V-neck",
    "long sleeves",
    "short sleeves",
    "narrow shoulder straps",
    "an elasticated waist",
    "a high waist",
    "side pockets",
    "a zip fly and button",
    "a concealed zip",
    "a drawstring hood",
    "ribbing at the cuffs and hem",
    "dropped shoulders",
    "a collar",
    "buttons down the front",
    "a slit at the hem",
    "a flared skirt",
    "adjustable straps",
    "underwired cups",
    "a printed motif",
    "a chest pocket",
    "wide legs",
    "raw-edge hems",
    "smocked details",
    "puff sleeves",
    "a tie belt",
    "a lined gusset",
    "a wrapover front",
    "a stand-up collar",
    "gently rounded hem",
    "press-studs",
    "a decorative seam",
    "a sewn-in lining",
    "a soft brushed inside",
    "elastic at the hem",
    "a text print",
    "frills",
    "pleats",
    "a regular fit",
    "a loose fit",
)

# ------------------------------------------------------------------------------------------------ segments
#: how strongly each product group draws purchases relative to how many articles it has (all segments):
#: accessories are many articles but few sales, garments the opposite (calibrated on the published shares)
GROUP_PULL: dict[str, float] = {LOWER: 1.35, FULL: 1.25, ACC: 0.45, SHOES: 0.6, UNDER: 1.1, SWIM: 0.8}


class Segment(NamedTuple):
    """A latent customer segment: its share of customers, age (mean, sd), taste over index groups (in the
    order of INDEX_GROUPS), emphasis on product groups and colour masters, price elasticity (preference
    ``(price / median) ** price_gamma``), activity and online-shopping propensity."""

    name: str
    share: float
    age_mean: float
    age_sd: float
    index_groups: tuple[float, float, float, float, float]  # Ladieswear, Divided, Menswear, Children, Sport
    groups: dict[str, float]
    colours: dict[str, float]
    price_gamma: float
    activity: float
    online: float


SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "young trend",
        0.15,
        22,
        2.5,
        (0.62, 0.32, 0.01, 0.01, 0.04),
        {FULL: 1.3, SWIM: 1.3},
        {"Black": 1.3, "Pink": 1.3},
        -0.6,
        1.3,
        0.80,
    ),
    Segment(
        "young basics",
        0.13,
        24,
        3.0,
        (0.68, 0.25, 0.02, 0.01, 0.04),
        {UPPER: 1.2, UNDER: 1.3},
        {"Black": 1.5, "White": 1.3},
        -0.4,
        1.1,
        0.78,
    ),
    Segment(
        "young men",
        0.06,
        25,
        4.0,
        (0.05, 0.10, 0.75, 0.02, 0.08),
        {UPPER: 1.3, SHOES: 1.5},
        {"Black": 1.5, "Blue": 1.4, "Grey": 1.3},
        -0.2,
        0.7,
        0.70,
    ),
    Segment(
        "sporty",
        0.05,
        27,
        5.0,
        (0.50, 0.10, 0.08, 0.02, 0.30),
        {LOWER: 1.3, SOCKS: 1.3},
        {"Black": 1.6},
        0.0,
        0.9,
        0.75,
    ),
    Segment(
        "lingerie lovers",
        0.06,
        30,
        6.0,
        (0.85, 0.12, 0.0, 0.0, 0.03),
        {UNDER: 3.5, NIGHT: 2.0, SOCKS: 2.0},
        {"Black": 1.3, "Beige": 1.4},
        -0.2,
        1.0,
        0.72,
    ),
    Segment(
        "young parents",
        0.08,
        32,
        4.0,
        (0.45, 0.05, 0.05, 0.43, 0.02),
        {FULL: 1.1},
        {"White": 1.3, "Beige": 1.3, "Pink": 1.2},
        -0.3,
        1.0,
        0.76,
    ),
    Segment(
        "career women",
        0.09,
        35,
        5.0,
        (0.85, 0.08, 0.02, 0.02, 0.03),
        {UPPER: 1.2, FULL: 1.3, SHOES: 1.3},
        {"Black": 1.4, "Blue": 1.2},
        0.5,
        1.0,
        0.72,
    ),
    Segment(
        "family shoppers",
        0.08,
        46,
        5.0,
        (0.50, 0.05, 0.10, 0.33, 0.02),
        {},
        {"Blue": 1.3, "Grey": 1.2},
        -0.3,
        0.8,
        0.62,
    ),
    Segment(
        "classic women",
        0.12,
        51,
        4.0,
        (0.88, 0.05, 0.03, 0.02, 0.02),
        {UPPER: 1.3, LOWER: 1.2},
        {"Black": 1.6, "White": 1.2, "Blue": 1.2},
        0.4,
        0.9,
        0.62,
    ),
    Segment(
        "mature women",
        0.08,
        57,
        5.0,
        (0.86, 0.02, 0.04, 0.06, 0.02),
        {UNDER: 1.3, NIGHT: 1.5, UPPER: 1.2},
        {"Black": 1.5, "Beige": 1.3, "White": 1.2},
        0.6,
        0.7,
        0.55,
    ),
    Segment(
        "men 45",
        0.05,
        48,
        7.0,
        (0.10, 0.03, 0.80, 0.05, 0.02),
        {UPPER: 1.3, UNDER: 1.3, SOCKS: 1.5},
        {"Blue": 1.6, "Grey": 1.4, "Black": 1.3},
        0.3,
        0.6,
        0.60,
    ),
    Segment(
        "grandparents",
        0.05,
        64,
        8.0,
        (0.55, 0.02, 0.08, 0.33, 0.02),
        {NIGHT: 1.3},
        {"White": 1.2, "Blue": 1.2},
        0.2,
        0.6,
        0.50,
    ),
)
