"""Unit tests of the benchmark's pure parts: `python3 -m unittest discover benches` from the
repository's root. They start no Spin and no Redis; one runs wrk against a local HTTP server."""
