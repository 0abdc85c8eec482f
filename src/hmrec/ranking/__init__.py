"""The two-stage recommender: candidate sources (stage 1), features and a LightGBM ranker (stage 2)."""

# the similar-article sources add themselves to the sources' registry (they build on ``sources``, which
# therefore cannot import them)
from hmrec.ranking import similar as _similar  # noqa: F401
