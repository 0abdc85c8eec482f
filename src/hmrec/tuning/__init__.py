"""Hyperparameter search on backtest weeks before the test week (``hmrec tune``), and the parameter files it
writes for ``--params-file``.

:mod:`~hmrec.tuning.spaces` declares each model's search space, :mod:`~hmrec.tuning.study` runs the Optuna
study, :mod:`~hmrec.tuning.report` writes its results and :mod:`~hmrec.tuning.params_file` reads them back.
"""
