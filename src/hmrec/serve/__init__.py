"""Serving: the bundle a trained model leaves for the service, the HTTP API and the web page.

Only ``hmrec.serve.app`` (and the CLI command that starts it) import FastAPI; ``hmrec.serve.bundle`` (the
bundle's format, reading it) and ``hmrec.serve.bundle_write`` (writing it) need nothing beyond hmrec's core
dependencies, so ``hmrec train`` writes bundles without the ``serve`` extra.
"""
