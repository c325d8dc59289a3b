"""The direction init reads from a metric's name, and the digest that marks init's own files."""

from __future__ import annotations

import pytest

from mlgitops.adopt.init_gate import direction
from mlgitops.adopt.init_texts import Pin, comment_workflow, pr_workflow, setup_command, untouched


@pytest.mark.parametrize(
    ("key", "better"),
    [
        ("test.roc_auc", "higher"),
        ("accuracy", "higher"),
        ("val.f1_score", "higher"),
        ("r2", "higher"),
        ("Precision", "higher"),
        ("train.recall-macro", "higher"),
        ("test.log_loss", "lower"),
        ("rmse", "lower"),
        ("eval.MAE", "lower"),
        ("mape", "lower"),
        ("error_rate", "lower"),
        # Not gated: no direction word, or words of both directions, or one the list leaves out.
        ("latency_ms", None),
        ("rows", None),
        ("auc_loss", None),
        ("mse", None),
        ("loss.count", None),  # only the last part of the key counts
    ],
)
def test_direction_only_when_the_name_says_it(key: str, better: str | None) -> None:
    assert direction(key) == better


def test_the_digest_tells_init_output_from_an_edited_file() -> None:
    pin = Pin("octo/mlgitops", "a" * 40)
    for text in (
        pr_workflow(pin, "pip install -r requirements.txt", True, "s3"),
        comment_workflow(pin),
    ):
        assert untouched(text)
        assert not untouched(text.replace("permissions: {}", "permissions: read-all"))
        assert not untouched(text + "# a note\n")


@pytest.mark.parametrize(
    ("requirements", "scheme", "command"),
    [
        (True, "s3", "pip install -r requirements.txt dvc-s3"),
        (True, None, "pip install -r requirements.txt"),
        (False, "gs", "pip install dvc-gs"),
        (False, None, ""),
    ],
)
def test_the_setup_command_installs_requirements_and_the_remotes_plugin(
    requirements: bool, scheme: str | None, command: str
) -> None:
    assert setup_command(requirements, scheme) == command


def test_an_s3_remote_gets_its_secrets_offered_commented_out() -> None:
    text = pr_workflow(Pin("octo/mlgitops", "a" * 40), "pip install dvc-s3", True, "s3")
    assert '      setup-command: "pip install dvc-s3"' in text
    assert "    #   AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}" in text
    assert "    #   ARGO_TOKEN: ${{ secrets.ARGO_TOKEN }}" in text  # docs/scale.md
