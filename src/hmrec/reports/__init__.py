"""Reports: the data exploration report (``hmrec explore``) and the evaluation results report.

Both are single self-contained HTML files (plots embedded as PNG data URIs) with every plot also written
as a PNG file next to them. Importing this package is cheap; the modules load matplotlib when used.
"""
