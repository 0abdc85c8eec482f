"""The two-stage recommender: candidate sources (stage 1), features and a LightGBM ranker (stage 2)."""
