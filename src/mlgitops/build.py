"""`mlgitops build`: the model service's Bento from bentofile.yaml, pinned and labelled.

bentofile.yaml holds every build setting; this adds what cannot be static there: the Python
pins, exported from uv.lock for one dependency group into the requirements file the bentofile
names (so the image installs exactly the locked versions, with no resolution at build time),
and the labels: the git revision built and the model card's model sha256. Prints the tag, so
`bentoml serve "$(mlgitops build)"` serves what was built.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from mlgitops.errors import UsageError
from mlgitops.plugin import plugin_app, run


def requirements_path(bentofile: Path) -> Path | None:
    """The requirements file the bentofile's `python.requirements_txt` names, if any."""
    try:
        recipe: Any = yaml.safe_load(bentofile.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"build: cannot read {bentofile} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise UsageError(f"build: {bentofile} is not valid YAML ({error})") from None
    python = recipe.get("python") if isinstance(recipe, dict) else None
    named = python.get("requirements_txt") if isinstance(python, dict) else None
    return bentofile.parent / named if isinstance(named, str) else None


def export_requirements(group: str, path: Path, *, lock: Path) -> None:
    """`group`'s packages with their uv.lock versions, as a requirements file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        *("uv", "export", "--frozen", "--only-group", group, "--project", str(lock.parent)),
        *("--no-hashes", "--no-emit-project", "--no-header", "--no-annotate"),
        *("--output-file", str(path)),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise UsageError("build: `uv` is not on PATH; it exports the pins from uv.lock") from None
    except subprocess.CalledProcessError as error:
        raise UsageError(
            f"build: `uv export --only-group {group}` failed: {error.stderr.strip()}"
        ) from None


def _git(*args: str, cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def labels(card_path: Path) -> dict[str, str]:
    """The git revision the Bento is built from (`-dirty` with changes), and its model."""
    try:
        card: Any = json.loads(card_path.read_text(encoding="utf-8"))
        sha256 = str(card["model"]["sha256"])
    except OSError:
        raise UsageError(
            f"build: {card_path} not found; reproduce the pipeline (dvc repro) or `dvc pull` it"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"build: {card_path} has no model.sha256; is it a model card?") from None
    where = card_path.parent
    revision = _git("rev-parse", "HEAD", cwd=where) or "unknown"
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", cwd=where))
    return {"git_revision": revision + ("-dirty" if dirty else ""), "model_sha256": sha256}


def build(bentofile: Path, card: Path, *, group: str | None) -> str:
    """Build the Bento in the current BENTOML_HOME and return its tag."""
    stamped = labels(card)  # a missing card is said before BentoML's import (~2 s)
    target = requirements_path(bentofile)
    import bentoml

    lock = bentofile.parent / "uv.lock"
    if group is not None and target is not None and lock.is_file():
        export_requirements(group, target, lock=lock)
    bento = bentoml.bentos.build_bentofile(
        str(bentofile), build_ctx=str(bentofile.parent), labels=stamped
    )
    return str(bento.tag)


app = plugin_app("Build the model service's Bento from bentofile.yaml; print its tag.")


@app.callback(invoke_without_command=True)
def build_command(
    bentofile: Annotated[
        Path, typer.Option("--bentofile", help="The BentoML build recipe.")
    ] = Path("bentofile.yaml"),
    card: Annotated[
        Path, typer.Option("--card", help="The model card whose model sha256 labels the Bento.")
    ] = Path("models/card.json"),
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="uv.lock's dependency group pinned into the bentofile's requirements_txt "
            "(when both exist); empty: none.",
        ),
    ] = "serve",
) -> None:
    """Build the Bento: pins from uv.lock, labels from git and the model card."""
    typer.echo(build(bentofile, card, group=group or None))


if __name__ == "__main__":
    run(app)
