"""The generator's worlds: world 0 is the generator as it was before worlds existed, byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hmrec.data.schema import ARTICLES_FILE, CUSTOMERS_FILE, SAMPLE_SUBMISSION_FILE, TRANSACTIONS_FILE
from hmrec.data.synthetic import TRUTH_ARRAYS, TRUTH_DIRNAME

#: sha256 of ``tiny``, seed 0, world 0, recorded with the single-module generator before it became a package
#: and drew worlds. A change here changes every data set generated so far (and must raise GENERATOR_VERSION);
#: a polars or numpy upgrade that writes the same values in other bytes would also show here.
TINY_S0_SHA256 = {
    ARTICLES_FILE: "73fadc14b40428160eaeb8ee4dadc80611cce1cb0f22f2a52b8e528de26dc3e1",
    CUSTOMERS_FILE: "a71b50eb60b36d53218ef4578a3fb6ee412ba3264c4031aec56223f6d6fac70a",
    SAMPLE_SUBMISSION_FILE: "d82fe19b860e6f6b11fa335cd828adc9e4e6d85ee6d74fa8d7458f58cf4c0d90",
    TRANSACTIONS_FILE: "b332250475ab828fb62878afb42df9d93cacf75e63719eae124f402980a24e5e",
    f"{TRUTH_DIRNAME}/{TRUTH_ARRAYS}": "b478291be7ba0953b5ec67b932c7c27455061d93004b2df42da35c2286acf8ff",
}


def test_world_0_writes_the_same_bytes_as_before_worlds(tiny_dir: Path) -> None:
    found = {name: hashlib.sha256((tiny_dir / name).read_bytes()).hexdigest() for name in TINY_S0_SHA256}
    assert found == TINY_S0_SHA256
