"""Where the data-sized steps run: the local engine (polars, numpy, numba) or Spark, behind one seam."""
