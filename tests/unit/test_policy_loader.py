"""Loading a policy directory: module/test split, errors naming the path, the revision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policy_engine.errors import PolicyLoadError
from policy_engine.policy import PolicySet, load_policy_set

SHIPPED = Path(__file__).resolve().parents[2] / "policies"
DATA = {"catalog": {"endpoints": [{"id": "e1", "deployment": "on_prem", "vendor": "self"}]}}


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(SHIPPED, target)
    return target


def test_shipped_set_splits_modules_and_tests() -> None:
    loaded = load_policy_set(SHIPPED, DATA)
    assert isinstance(loaded, PolicySet)
    assert "segmentation.rego" in loaded.modules
    assert "rules/isolation/isolation.rego" in loaded.modules
    assert "rules/isolation/isolation_test.rego" in loaded.test_modules
    assert not any(name.endswith("_test.rego") for name in loaded.modules)
    assert all(name.endswith("_test.rego") for name in loaded.test_modules)
    assert loaded.modules["segmentation.rego"].startswith("#")
    assert loaded.data == DATA
    assert loaded.revision.startswith("sha256:") and len(loaded.revision) == 7 + 64


def test_data_is_copied_not_shared() -> None:
    data = {"catalog": {"endpoints": [{"id": "e1"}]}}
    loaded = load_policy_set(SHIPPED, data)
    data["catalog"]["endpoints"].append({"id": "e2"})
    assert loaded.data == {"catalog": {"endpoints": [{"id": "e1"}]}}


def test_revision_is_stable(policies: Path) -> None:
    assert load_policy_set(policies, DATA).revision == load_policy_set(policies, DATA).revision
    assert load_policy_set(policies, DATA).revision == load_policy_set(SHIPPED, DATA).revision


def test_revision_ignores_data_key_order(policies: Path) -> None:
    one = {"a": 1, "b": {"x": 1, "y": 2}}
    two = {"b": {"y": 2, "x": 1}, "a": 1}
    assert load_policy_set(policies, one).revision == load_policy_set(policies, two).revision


@pytest.mark.parametrize(
    ("relative", "content"),
    [
        ("segmentation.rego", None),  # edit a module
        ("rules/isolation/isolation_test.rego", None),  # edit a test
        ("rules/extra/extra.rego", "package segmentation.rules.extra\n"),  # add a module
        ("rules/extra/extra_test.yaml", "version: 1\n"),  # add a YAML test-case file
        (
            "rules/extra/extra.yaml",
            "name: extra\nrules: [{id: extra.a, message: m, segment: any}]\n",
        ),
        ("rules/extra/data.json", "{}\n"),  # add a JSON file
    ],
)
def test_revision_changes_with_any_policy_file(
    policies: Path, relative: str, content: str | None
) -> None:
    before = load_policy_set(policies, DATA).revision
    path = policies / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if content is not None else path.read_text() + "\n# edited\n")
    assert load_policy_set(policies, DATA).revision != before


def test_revision_changes_when_a_file_is_renamed(policies: Path) -> None:
    before = load_policy_set(policies, DATA).revision
    source = policies / "rules" / "classification"
    source.rename(policies / "rules" / "declared")
    assert load_policy_set(policies, DATA).revision != before


def test_revision_changes_with_data(policies: Path) -> None:
    changed = {"catalog": {"endpoints": [{"id": "e1", "deployment": "on_prem", "vendor": "x"}]}}
    assert load_policy_set(policies, DATA).revision != load_policy_set(policies, changed).revision


def test_other_and_hidden_files_do_not_count(policies: Path) -> None:
    before = load_policy_set(policies, DATA)
    (policies / "NOTES.txt").write_text("not a policy file")
    (policies / ".hidden.rego").write_text("package hidden\n")
    (policies / ".cache").mkdir()
    (policies / ".cache" / "x.rego").write_text("package cached\n")
    after = load_policy_set(policies, DATA)
    assert after.revision == before.revision
    assert after.modules.keys() == before.modules.keys()


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match=r"missing.*does not exist"):
        load_policy_set(tmp_path / "missing", DATA)


def test_file_instead_of_directory(tmp_path: Path) -> None:
    target = tmp_path / "policies.rego"
    target.write_text("package x\n")
    with pytest.raises(PolicyLoadError, match=r"policies\.rego: policy directory is not a dir"):
        load_policy_set(target, DATA)


def test_directory_without_modules(tmp_path: Path) -> None:
    (tmp_path / "only_test.rego").write_text("package only_test\n")
    with pytest.raises(PolicyLoadError, match="no Rego modules") as caught:
        load_policy_set(tmp_path, DATA)
    assert str(tmp_path) in str(caught.value)


def test_non_utf8_module_names_the_file(policies: Path) -> None:
    bad = policies / "rules" / "latin1" / "latin1.rego"
    bad.parent.mkdir()
    bad.write_bytes(b"package segmentation.rules.latin1\n# caf\xe9\n")
    with pytest.raises(PolicyLoadError, match=r"latin1\.rego: not UTF-8 text \(byte 39\)"):
        load_policy_set(policies, DATA)


def test_unreadable_file_names_the_file(policies: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = policies / "segmentation.rego"
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == target:
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(PolicyLoadError, match=r"segmentation\.rego: cannot read policy file"):
        load_policy_set(policies, DATA)


def test_data_that_is_not_json(policies: Path) -> None:
    with pytest.raises(PolicyLoadError, match="policy data is not JSON"):
        load_policy_set(policies, {"catalog": {"endpoints": {1, 2}}})
