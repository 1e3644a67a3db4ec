"""Write a policy set as a standard OPA bundle (``.tar.gz``).

The bundle holds ``.manifest`` (the set's revision and the roots ``segmentation`` and
``catalog``), every Rego module (YAML policies as their compiled Rego, named
``<file>.yaml.rego``), and ``data.json`` with the catalog (``data.catalog``). Test modules are
left out. A stock ``opa run --server --bundle bundle.tar.gz`` serves
``data.segmentation.decision`` from it unchanged. The archive is deterministic: the same
policy set gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from policy_engine.errors import PolicyError
from policy_engine.policy.loader import PolicySet

#: The data roots the bundle owns.
ROOTS = ("segmentation", "catalog")


def bundle_module_name(relative: str) -> str:
    """The file name of a module inside the bundle (YAML policies get ``.rego`` appended)."""
    return relative if relative.endswith(".rego") else f"{relative}.rego"


def bundle_files(policy_set: PolicySet) -> dict[str, bytes]:
    """Bundle path → content, in archive order."""
    manifest = {"revision": policy_set.revision, "roots": list(ROOTS), "rego_version": 1}
    files = {".manifest": json.dumps(manifest, indent=2, sort_keys=True).encode()}
    for relative, source in sorted(policy_set.modules.items()):
        files[bundle_module_name(relative)] = source.encode("utf-8")
    data = {"catalog": policy_set.data.get("catalog", {"endpoints": []})}
    files["data.json"] = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode()
    return files


def bundle_bytes(policy_set: PolicySet) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in bundle_files(policy_set).items():
            info = tarfile.TarInfo(f"/{name}")
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_bundle(policy_set: PolicySet, output: Path) -> int:
    """Write the bundle; returns its size in bytes. Raises :class:`PolicyError` on I/O errors."""
    content = bundle_bytes(policy_set)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(content)
    except OSError as exc:
        raise PolicyError(f"{output}: cannot write the bundle ({exc.strerror})") from None
    return len(content)
