"""The synthetic generator: H&M-like competition files with a known truth.

``generate(out, scale, seed, world=0)`` writes ``articles.csv``, ``customers.csv``, ``transactions_train.csv`` and
``sample_submission.csv`` with the columns and formats of the real competition files, and ``truth/`` with
what is needed to compute, exactly, the distribution the final 7 days were drawn from.

The model (everything vectorized; the only Python loops run over weeks, segments or small tables), as world 0
has it: another world (``world``, :mod:`.world`) draws which article columns the favourites are groups of
and the strengths written here as constants (SAME_ARTICLE, OTHER_COLOUR, PARTNER, the Beta laws of
``rho_c`` and ``f_c``, ``alpha``, the mix's exponent 0.8):

* **Articles**: products (one product type, index, section, garment group, department, launch day, price,
  base popularity) in one or more colours (an article). In week ``w`` an article's popularity is
  ``pop_w(a) = base(a) * life(age)``: a ramp over ~10 days after launch, then exponential decay with a
  time constant of a few weeks (most articles) or months (basics), floored at 3 % of the peak. Base
  popularity is log-normal with its top ``1 - BASE_CAP`` raised to ``HIT_BOOST`` times the cap: the
  best-sellers are a crowd of similar hits, so the week's top 12 holds a steady share. A category
  ``g`` is (index, product type); a sub-category ``h`` is (category, colour master). Every product has
  ``N_PARTNERS`` co-purchase partners: products launched about the same time in the same index group (one
  colour of each), the articles that "go together".
* **Customers**: a latent segment ``s`` (age, taste over index groups / product groups / colours, price
  elasticity ``gamma_s``, activity, online share), a join day, a churn day, a heavy-tailed relative visit
  rate ``lambda_c``, a history propensity ``rho_c``, three favourite sub-categories with weight ``f_c``.
  Sign-ups come at a constant rate and the members from before the start are as many as that flow keeps
  alive, with a size-biased remaining life (no warm-up, no pile-up of last purchases in the first weeks).
* **Purchases**, week by week: visits ``~ Poisson(lambda_c * k_w * season_w * active_days / 7)`` (+ one
  first visit: on the join day, or on a random active day for customers who joined before the start; 0.7 %
  of customers never buy), where ``k_w`` makes the week's expected volume follow the season whoever is
  alive; ``1 + Poisson(1.3)`` items per visit; each item is

  - with probability ``rho_c`` (if the customer bought before this week) driven by one of the last
    ``HISTORY`` items the customer bought, the ``k``-th most recent with weight ``REPEAT_DECAY ** k`` (a
    rebuy follows a recent purchase): ``h`` itself with probability ``SAME_ARTICLE``,
    another colour of its product with ``OTHER_COLOUR`` (``h`` itself when it has one colour), one of its
    partners, uniformly, with ``PARTNER``;
  - else *new*: with probability ``f_c`` a favourite sub-category ``h`` (uniformly among the three), then an
    article of it with probability ``q'_sw(a) = u_sw(a)^alpha / U'_sw(h)``; else a category ``g`` from the
    segment's weekly mix ``m_sw(g)``, then an article of ``g`` with ``q_sw(a) = u_sw(a) / U_sw(g)``;
    ``u_sw(a) = colour_s(a) * (price(a)/median)^gamma_s * pop_w(a)``, ``U`` its sums over ``g`` or ``h``.
    A new item that is one of the ``HISTORY`` remembered purchases is drawn once more (novelty: customers
    rarely buy an article they own through their taste alone).
    The mix is ``m_sw(g) = ig_s(group(g)) * r / sum r`` over the categories of the index group,
    ``r = taste_s(g) * season_w(type) * U_sw(g)^0.8``.

  Each item is written ``1 + Bernoulli(DUPLICATE_P) * (1 + Poisson(DUPLICATE_EXTRA))`` times (the same
  item bought more than once that day: exact duplicate rows), at the article's price that week (sometimes
  discounted).

The truth of the final week (``truth_window``) is therefore, for customer ``c`` and article ``a``::

    E[rows(c, a)] = E_c * P_c(a),
    P_c(a) = (1 - rho'_c) * N_c(a) + rho'_c * R_c(a),
    N_c(a) = p_c(a) * (1 + p_c(H_c)) - [a in H_c] * p_c(a),
    p_c(a) = (1 - f_c) * m_s(g_a) * q_s(a) + f_c * n_fav(c, h_a) / 3 * q'_s(a)

with ``E_c`` the expected number of rows of ``c`` that week, ``rho'_c = rho_c`` if ``c`` bought before
(else 0), ``H_c`` the customer's remembered purchases (the redraw) and ``R_c`` the history distribution over
them (recency-weighted), their other colours and their partners; ``h_a`` is the article's favourite group
(world 0: its sub-category).

Its modules: ``plan`` (arguments, presets, calendar), ``articles``, ``customers``, ``purchases`` (the weekly
simulation), ``truth`` (the final week's distribution, written and read back), ``world`` (the structure
drawn from the world number: the favourite key and the strengths below), ``generator`` (one run, its random
streams and files), ``constants`` and ``sampling`` (shared draws).
"""

from hmrec.synthetic.constants import (
    GENERATOR_VERSION,
    MARKER_FILE,
    OWN_ENTRIES,
    TRUTH_ARRAYS,
    TRUTH_DIRNAME,
    TRUTH_META,
)
from hmrec.synthetic.generator import generate, generated_version
from hmrec.synthetic.plan import SCALES, ScaleSpec
from hmrec.synthetic.truth import _load_truth, true_scores, true_segments, true_top_k, truth_window
from hmrec.synthetic.world import World, draw_world

__all__ = [
    "GENERATOR_VERSION",
    "MARKER_FILE",
    "OWN_ENTRIES",
    "SCALES",
    "TRUTH_ARRAYS",
    "TRUTH_DIRNAME",
    "TRUTH_META",
    "ScaleSpec",
    "World",
    "_load_truth",
    "draw_world",
    "generate",
    "generated_version",
    "true_scores",
    "true_segments",
    "true_top_k",
    "truth_window",
]
