"""What an execution environment needs to know about a function version, read from moto."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InvalidParameterError


@dataclass(frozen=True)
class FunctionSpec:
    """One function version's configuration, frozen at the moment it is invoked."""

    name: str
    arn: str
    """Unqualified function ARN."""
    version: str
    """'$LATEST' or a published version number."""
    handler: str
    runtime: str | None
    memory_mb: int
    timeout_s: float
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    package_type: str
    image_uri: str | None
    account_id: str
    region: str
    code_dir: str = ""
    """Where the zip package is unpacked (the task root); empty for images."""
    code_revision: str = ""
    """For code and layers used in place (hot reload): their directories' fingerprints. A saved
    change makes another spec, hence another pool, and the old pool's environments retire."""
    layer_dirs: tuple[str, ...] = ()
    """Where each of its layers is unpacked, in the function's order (later ones win)."""
    layer_revisions: tuple[str, ...] = ()
    """For each layer: its CodeSha256, or the fingerprint of its directory used in place."""
    layers_in_place: bool = False
    """True when a layer is a directory used in place (hot reload)."""
    image_command: tuple[str, ...] = ()
    """ImageConfig.Command: overrides the image's CMD (the handler) when not empty."""
    image_entrypoint: tuple[str, ...] = ()
    """ImageConfig.EntryPoint: overrides the image's ENTRYPOINT when not empty."""
    image_workdir: str = ""
    """ImageConfig.WorkingDirectory: overrides the image's WORKDIR when not empty."""
    snap_start: bool = False
    """A published version with SnapStart: its environments restore from its snapshot."""
    role: str = ""
    """The execution role's ARN: each environment gets temporary credentials for it, and a new
    role retires the environments that have the old one's."""

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


def spec_from_moto(fn: Any, version: str, **extra: Any) -> FunctionSpec:
    """Freeze a moto ``LambdaFunction`` into a spec; ``extra`` sets the fields moto does not
    hold (where its code is unpacked, its layers, SnapStart)."""
    env = tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items()))
    return FunctionSpec(
        name=fn.function_name,
        arn=f"arn:aws:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}",
        version=version,
        handler=fn.handler or "",
        runtime=fn.run_time,
        memory_mb=int(fn.memory_size or 128),
        timeout_s=float(fn.timeout or 3),
        environment=env,
        code_sha256=fn.code_sha_256 or "",
        package_type=fn.package_type or "Zip",
        image_uri=(fn.code or {}).get("ImageUri"),
        account_id=fn.account_id,
        region=fn.region,
        role=str(fn.role or ""),
        **_image_config(fn),
        **extra,
    )


def _image_config(fn: Any) -> dict[str, Any]:
    config = getattr(fn, "image_config", None)
    if config is None:
        return {}
    return {"image_command": tuple(config.cmd or ()),
            "image_entrypoint": tuple(config.entry_point or ()),
            "image_workdir": config.working_directory or ""}


def _safe_members(archive: zipfile.ZipFile, root: Path) -> list[zipfile.ZipInfo]:
    members = []
    for info in archive.infolist():
        target = (root / info.filename).resolve()
        if not str(target).startswith(str(root.resolve()) + os.sep) and target != root.resolve():
            raise InvalidParameterError(
                f"function package holds a path outside its root: {info.filename!r}"
            )
        members.append(info)
    return members


def _apply_modes(members: list[zipfile.ZipInfo], root: Path) -> None:
    """The Unix permissions a zip made on Unix records, which Lambda keeps when it extracts one
    (zipfile drops them): a layer's bin/ tool stays executable."""
    for info in members:
        mode = (info.external_attr >> 16) & 0o777
        if info.create_system == 3 and mode and not info.is_dir():
            (root / info.filename).chmod(mode)


def unpack_code(code: bytes, sha256: str, cache_dir: Path) -> Path:
    """Unpack a zip package once per content hash; returns the task root."""
    key = hashlib.sha256(code).hexdigest() if not sha256 else hashlib.sha256(
        sha256.encode()).hexdigest()[:32]
    target = cache_dir / "code" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        try:
            archive = zipfile.ZipFile(io.BytesIO(code))
        except zipfile.BadZipFile as exc:
            raise InvalidParameterError(f"function package is not a zip file: {exc}") from None
        with archive:
            members = _safe_members(archive, staging)
            archive.extractall(staging, members=members)
            _apply_modes(members, staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
