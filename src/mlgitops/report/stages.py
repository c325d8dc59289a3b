"""Which stages the head changed and why, from `dvc.lock` at both revisions and `dvc status`.

A stage changed when its lock entry differs; the reasons are the inputs that differ: the
command, dependencies (data or code) and parameters. Outputs that differ with the same inputs
are named too (the stage is not deterministic). In a workspace head, `dvc status` adds what
was changed but not reproduced yet.
"""

from __future__ import annotations

import posixpath
from typing import Any

import yaml


def parse_lock(text: str | None, lock_path: str = "dvc.lock") -> dict[str, dict[str, Any]]:
    """The stage entries of a `dvc.lock` text, keyed as DVC addresses them."""
    if not text:
        return {}
    loaded = yaml.safe_load(text) or {}
    stages = loaded.get("stages", {}) if "schema" in loaded else loaded
    folder = posixpath.dirname(lock_path)
    prefix = f"{posixpath.join(folder, 'dvc.yaml')}:" if folder else ""
    return {f"{prefix}{name}": entry or {} for name, entry in (stages or {}).items()}


def changed_stages(
    base_lock: dict[str, dict[str, Any]],
    head_lock: dict[str, dict[str, Any]],
    status: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Stages whose lock entry differs between base and head, or that status says are stale."""
    results: dict[str, list[str]] = {}
    for name, entry in head_lock.items():
        if name not in base_lock:
            results[name] = ["new stage"]
            continue
        why = _reasons(base_lock[name], entry)
        if why:
            results[name] = why
    for name in base_lock:
        if name not in head_lock:
            results[name] = ["removed"]
    for name, changes in (status or {}).items():
        stale = _status_reasons(changes)
        if stale:
            results.setdefault(name, []).extend(stale)
    return [{"stage": name, "why": why} for name, why in results.items()]


def _reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    why: list[str] = []
    if old.get("cmd") != new.get("cmd"):
        why.append("cmd: changed")
    why += [f"deps: {path}" for path in _changed_files(old.get("deps"), new.get("deps"))]
    why += [f"params: {key}" for key in _changed_params(old.get("params"), new.get("params"))]
    if not why:
        outs = _changed_files(old.get("outs"), new.get("outs"))
        why += [f"outs: {path} (same inputs)" for path in outs]
    return why


def _changed_files(old: Any, new: Any) -> list[str]:
    """Paths whose lock record (hash, size, files) differs, or that are only on one side."""
    before = {item["path"]: _signature(item) for item in old or [] if isinstance(item, dict)}
    after = {item["path"]: _signature(item) for item in new or [] if isinstance(item, dict)}
    paths = list(dict.fromkeys([*after, *before]))
    return [path for path in paths if before.get(path) != after.get(path)]


def _signature(item: dict[str, Any]) -> Any:
    """What identifies a file's content in a lock record: its hash, else the whole record."""
    for key in ("md5", "etag", "checksum"):
        if item.get(key):
            return item[key]
    return sorted((key, str(value)) for key, value in item.items())


def _changed_params(old: Any, new: Any) -> list[str]:
    """Dotted parameter keys whose value differs; keys outside params.yaml get their file."""
    old = old or {}
    new = new or {}
    keys: list[str] = []
    for params_file in dict.fromkeys([*new, *old]):
        before = _flatten(old.get(params_file) or {})
        after = _flatten(new.get(params_file) or {})
        prefix = "" if params_file == "params.yaml" else f"{params_file}:"
        keys += [
            f"{prefix}{key}"
            for key in dict.fromkeys([*after, *before])
            if before.get(key, _MISSING) != after.get(key, _MISSING)
        ]
    return keys


_MISSING = object()


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _status_reasons(changes: Any) -> list[str]:
    """`dvc status` entries of one stage as 'not reproduced: ...' reasons."""
    why: list[str] = []
    for change in changes if isinstance(changes, list) else []:
        if isinstance(change, str):
            why.append(f"not reproduced: {change}")
            continue
        for kind, items in change.items():
            label = kind.replace("changed ", "")
            for path, state in (items or {}).items():
                if isinstance(state, dict):
                    why += [
                        f"not reproduced: params: {key} ({value})" for key, value in state.items()
                    ]
                else:
                    why.append(f"not reproduced: {label}: {path} ({state})")
    return why
