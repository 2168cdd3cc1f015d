"""Settings of the benchmark's web server: the product's, plus the benchmark's own URLs."""

from ris.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
