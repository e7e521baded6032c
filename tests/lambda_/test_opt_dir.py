"""The /opt a container mounts: layers merged in order, later over earlier, as Lambda extracts
them; one layer mounted as it is; this run's merges of hot-reload layers removed at close."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from harness.lambda_.opt_dir import OptDirs, merge_layers
from harness.lambda_.spec import FunctionSpec, unpack_code


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_later_layers_replace_earlier_files_and_directories_merge(tmp_path: Path) -> None:
    first = _tree(tmp_path / "first", {"python/a.py": "first", "python/b.py": "first",
                                       "bin/tool": "first", "lib/x": "a file here"})
    second = _tree(tmp_path / "second", {"python/a.py": "second", "lib/x/y": "a dir here"})
    (second / "bin").mkdir()
    (second / "bin" / "tool-link").symlink_to("tool")

    merged = merge_layers([str(first), str(second)], tmp_path / "opt")

    assert _files(merged) == {"bin/tool": "first", "bin/tool-link": "first",
                              "lib/x/y": "a dir here", "python/a.py": "second",
                              "python/b.py": "first"}
    assert os.readlink(merged / "bin" / "tool-link") == "tool"
    # Hard links, not copies, on one file system; the sources are left as they were.
    assert (merged / "python" / "b.py").stat().st_ino == (first / "python" / "b.py").stat().st_ino
    assert (first / "python" / "a.py").read_text() == "first"
    assert oct(merged.stat().st_mode & 0o777) == oct(0o755)


def _spec(layer_dirs: tuple[str, ...], revisions: tuple[str, ...],
          in_place: bool = False) -> FunctionSpec:
    return FunctionSpec(name="f", arn="arn", version="$LATEST", handler="app.handler",
                        runtime="python3.11", memory_mb=128, timeout_s=3, environment=(),
                        code_sha256="", package_type="Zip", image_uri=None,
                        account_id="123456789012", region="us-east-1", layer_dirs=layer_dirs,
                        layer_revisions=revisions, layers_in_place=in_place)


def test_one_layer_is_mounted_as_it_is_and_several_once_per_revision(tmp_path: Path) -> None:
    one = str(_tree(tmp_path / "one", {"python/a.py": "one"}))
    two = str(_tree(tmp_path / "two", {"python/a.py": "two"}))
    dirs = OptDirs(tmp_path / "state")
    assert dirs.for_spec(_spec((), ())) is None
    assert dirs.for_spec(_spec((one,), ("sha-one",))) == one

    merged = dirs.for_spec(_spec((one, two), ("sha-one", "sha-two")))
    assert merged is not None and _files(Path(merged)) == {"python/a.py": "two"}
    assert dirs.for_spec(_spec((one, two), ("sha-one", "sha-two"))) == merged
    assert dirs.for_spec(_spec((one, two), ("sha-one", "sha-2"))) != merged


def test_merges_of_hot_reload_layers_go_at_close_and_the_others_stay(tmp_path: Path) -> None:
    one = str(_tree(tmp_path / "one", {"python/a.py": "one"}))
    two = str(_tree(tmp_path / "two", {"python/a.py": "two"}))
    dirs = OptDirs(tmp_path / "state")
    kept = dirs.for_spec(_spec((one, two), ("sha-one", "sha-two")))
    this_run = dirs.for_spec(_spec((one, two), ("sha-one", "fingerprint"), in_place=True))
    assert kept is not None and this_run is not None and kept != this_run

    dirs.close()

    assert Path(kept).is_dir() and not Path(this_run).exists()


def test_unpacked_packages_keep_the_unix_modes_of_their_zip(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, mode in (("bin/tool", 0o755), ("python/a.py", 0o644)):
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr = 3, mode << 16
            archive.writestr(info, "#!/bin/sh\n")
    root = unpack_code(buffer.getvalue(), "sha", tmp_path)
    assert (root / "bin" / "tool").stat().st_mode & 0o777 == 0o755
    assert (root / "python" / "a.py").stat().st_mode & 0o777 == 0o644
