"""What the benchmark reads from a spin.toml: the component's source, and its variables."""

import shutil
import tempfile
import unittest
from pathlib import Path

from bench.spin import application_variables, component_variables, manifest_with_absolute_source

MANIFEST = """spin_manifest_version = 2

[application]
name = "demo"

[variables]
redis_address = { default = "redis://127.0.0.1:6379" }
api_token = { default = "" }
limits = { default = "max_name=200" }

[[trigger.http]]
route = "/..."
component = "demo"

[component.demo]
source = "target/wasm32-wasip1/release/demo.wasm"
allowed_outbound_hosts = ["{{ redis_address }}"]
[component.demo.variables]
redis_address = "{{ redis_address }}"
access = "token={{api_token}};limits={{ limits }}"
"""


class Manifest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="bench-test-spin-"))
        self.manifest = self.dir / "app" / "spin.toml"
        self.manifest.parent.mkdir()
        self.manifest.write_text(MANIFEST)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_source_made_absolute_beside_the_original(self):
        out, wasm = manifest_with_absolute_source(self.manifest, self.dir, "copy")
        self.assertEqual(wasm, (self.dir / "app/target/wasm32-wasip1/release/demo.wasm").resolve())
        self.assertIn(f'source = "{wasm}"', out.read_text())
        self.assertEqual(out, self.dir / "copy" / "spin.toml")

    def test_source_replaced_by_a_given_wasm(self):
        out, wasm = manifest_with_absolute_source(self.manifest, self.dir, "copy", self.dir / "other.wasm")
        self.assertEqual(wasm, (self.dir / "other.wasm").resolve())
        self.assertIn(f'source = "{wasm}"', out.read_text())
        # Everything else is kept.
        self.assertEqual(out.read_text().replace(f'"{wasm}"', '"target/wasm32-wasip1/release/demo.wasm"'), MANIFEST)

    def test_component_variables_from_defaults_and_overrides(self):
        got = component_variables(self.manifest, {"api_token": "t0k", "redis_address": "redis://127.0.0.1:7000"})
        self.assertEqual(got, {"redis_address": "redis://127.0.0.1:7000", "access": "token=t0k;limits=max_name=200"})


if __name__ == "__main__":
    unittest.main()

    def test_application_variables_are_every_declared_one(self):
        # What `--variable @variables.json` must hold so that no variable falls through to Spin's
        # env provider: all three declared ones, each with its default unless overridden.
        got = application_variables(self.manifest, {"redis_address": "redis://127.0.0.1:7000"})
        self.assertEqual(got, {"redis_address": "redis://127.0.0.1:7000", "api_token": "", "limits": "max_name=200"})
