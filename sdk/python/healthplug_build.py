"""Builds a Python plugin directory into an installable directory: its
manifest beside the component componentize-py makes from its `app.py`.

    python3 sdk/python/healthplug_build.py plugins/python/sleep-coach --out build/sleep-coach

The world follows the manifest, because componentize-py imports every
function of the world it builds against whether the code calls it or not:
`plugin-core` / `connector-core` (no `storage`) unless the manifest
declares `[storage]`, so the component imports exactly what the manifest
allows and the host's static check accepts it without asking users for
storage the plugin never uses.
"""

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIT = HERE.parent.parent / "wit"


def world_for(manifest):
    kind = manifest.get("plugin", {}).get("world", "plugin")
    if kind not in ("plugin", "connector"):
        raise SystemExit(f"error: unknown world `{kind}` in the manifest")
    return kind if "storage" in manifest else f"{kind}-core"


def componentize_py():
    beside = Path(sys.executable).parent / "componentize-py"
    if beside.exists():
        return str(beside)
    found = shutil.which("componentize-py")
    if found is None:
        raise SystemExit(
            "error: componentize-py not found; install it: "
            "python3 -m venv .venv && .venv/bin/pip install -r sdk/python/requirements-build.txt"
        )
    return found


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("plugin_dir", type=Path)
    p.add_argument("--out", type=Path, required=True, help="the installable directory to write")
    p.add_argument("--wit", type=Path, default=WIT)
    args = p.parse_args()
    manifest_path = args.plugin_dir / "healthplug.toml"
    manifest = tomllib.loads(manifest_path.read_text())
    component = manifest.get("plugin", {}).get("component")
    if not component or "/" in component or component.startswith("."):
        raise SystemExit("error: the manifest's `component` must be a plain file name, e.g. plugin.wasm")
    if not (args.plugin_dir / "app.py").is_file():
        raise SystemExit(f"error: {args.plugin_dir}/app.py not found (the module componentize-py builds)")
    world = world_for(manifest)
    args.out.mkdir(parents=True, exist_ok=True)
    cmd = [
        componentize_py(), "-d", str(args.wit), "-w", f"healthplug:plugin/{world}@0.1.0",
        "componentize", "app", "-p", str(args.plugin_dir), "-p", str(HERE),
        "-o", str(args.out / component),
    ]
    subprocess.run(cmd, check=True)
    shutil.copyfile(manifest_path, args.out / "healthplug.toml")
    print(f"built {args.out / component} (world {world})")


if __name__ == "__main__":
    main()
