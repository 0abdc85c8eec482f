"""The generator's constants: file names, its version, and the parameters of its purchase model (see the
package docstring for what each one does)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from hmrec.data.schema import ARTICLES_FILE, CUSTOMERS_FILE, SAMPLE_SUBMISSION_FILE, TRANSACTIONS_FILE

FULL_START = dt.date(2018, 9, 20)
FULL_END = dt.date(2020, 9, 22)
TRUTH_DAYS = 7
TRUTH_DIRNAME = "truth"
TRUTH_ARRAYS = "truth.npz"
TRUTH_META = "truth.json"
MARKER_FILE = ".hmrec-generated.json"
#: raised whenever the same scale and seed give other data (written into MARKER_FILE): 3 is the second
#: calibration pass. The demo data set is regenerated when its version differs.
GENERATOR_VERSION = 3
#: entries of an output directory that hmrec itself writes (anything else makes ``generate`` refuse)
OWN_ENTRIES = frozenset(
    {
        ARTICLES_FILE,
        CUSTOMERS_FILE,
        TRANSACTIONS_FILE,
        SAMPLE_SUBMISSION_FILE,
        TRUTH_DIRNAME,
        MARKER_FILE,
        ".hmrec-cache",
    }
)

#: prices are multiples of 1/PRICE_UNITS (the real file's prices look like SEK / 590 with two decimals)
PRICE_UNITS = 59000
#: how many recent purchases a customer's repeats choose from
HISTORY = 16
#: an item driven by a remembered purchase is the same article, another colour of its product (the same
#: article when it has one colour) or one of its co-purchase partners, with these probabilities
SAME_ARTICLE = 0.35
OTHER_COLOUR = 0.4
PARTNER = 0.25  # the rest: SAME_ARTICLE + OTHER_COLOUR + PARTNER = 1
N_PARTNERS = 4
REPEAT_DECAY = 0.3  # the k-th most recent remembered purchase drives a history item with weight REPEAT_DECAY**k
PARTNER_SPREAD = 10.0  # days of noise on the launch order that makes products partners
DEPT_PREFIXED = 0.45  # share of department names prefixed by their section's first word
N_FAVOURITES = 3
#: the article attribute columns a world's favourite key combines (one to three of them)
FAVOURITE_COLUMNS = (
    "product_type_no",
    "product_group_name",
    "graphical_appearance_no",
    "colour_group_code",
    "perceived_colour_value_id",
    "perceived_colour_master_id",
    "department_no",
    "index_code",
    "index_group_no",
    "section_no",
    "garment_group_no",
)
#: world 0's favourite key: the sub-category, a kind of article in a colour ("black trousers")
SUBCATEGORY_KEY = ("index_code", "product_type_no", "perceived_colour_master_id")
RHO_BETA = (1.7, 18.0)  # a customer's probability that an item is driven by a remembered purchase
FAVOURITE_BETA = (1.5, 4.0)  # ... that a new item comes from a favourite sub-category
FAV_ALPHA = 0.6  # within a favourite sub-category an article is drawn by u ** FAV_ALPHA (u: see above)
BASKET_EXTRA = 1.3  # items per visit = 1 + Poisson(BASKET_EXTRA)
DUPLICATE_P = 0.068  # an item is written more than once with this probability ...
DUPLICATE_EXTRA = 0.35  # ... 1 + Poisson(DUPLICATE_EXTRA) extra times
ROWS_PER_ITEM = 1.0 + DUPLICATE_P * (1.0 + DUPLICATE_EXTRA)
ITEMS_PER_VISIT = 1.0 + BASKET_EXTRA
CATEGORY_ETA = 0.8  # how strongly a category's weekly popularity mass draws customers to it
PRICE_SCALE = 1.34  # calibrates the mean price to the published 0.0278
ARTICLES_PER_PRODUCT = 2.235  # 105,542 articles / 47,224 products
NEVER_BUY = 0.007
LIFETIME = 260.0  # mean days a churning customer stays
#: an old article keeps this fraction of its peak popularity (so that few articles are never sold)
LIFE_FLOOR = 0.03
BASIC_SHARE = 0.1  # products that sell for months (the rest fade within weeks)
BASIC_TAU = (60.0, 200.0)  # their decay time constant, days (uniform)
BASE_SIGMA = 1.1  # log-sd of a product's base popularity
BASE_CAP = 0.985  # article base popularity is capped at this quantile: the best-sellers are many similar hits
HIT_BOOST = 3.1  # ... and those at the cap get this multiple of it
FADE_TAU = 22.0  # median decay time constant (days) of the products that fade
WEEKDAY_WEIGHTS = np.array([0.9, 0.9, 1.0, 1.0, 1.15, 1.2, 0.85])  # Monday .. Sunday
