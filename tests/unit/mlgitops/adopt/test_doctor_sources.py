"""The doctor's readers of sources: workflows (pins, permissions) and stage scripts (`ast`).

Real files in tmp_path; every case that should stay quiet is as important as the ones that
should speak (a doctor that cries wolf is switched off).
"""

from __future__ import annotations

import ast
from pathlib import Path
from textwrap import dedent

import pytest

from mlgitops.adopt.checks_workflows import check_workflows
from mlgitops.adopt.findings import Finding
from mlgitops.adopt.scripts import ANY_FILE, ParamsRead, literals, params_reads, stage_script
from mlgitops.adopt.yamlmarks import YamlFile

SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
REPO_ROOT = Path(__file__).resolve().parents[4]


def _workflow(root: Path, text: str, name: str = "pr.yml") -> list[Finding]:
    path = root / ".github" / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return list(check_workflows(root))


def test_an_action_by_tag_is_named_with_its_line(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        f"""\
        on: pull_request
        permissions:
          contents: read
        jobs:
          report:
            runs-on: ubuntu-24.04
            steps:
              - uses: actions/checkout@{SHA} # v4.2.2
              - uses: ./.github/actions/setup
              - uses: actions/setup-python@v5
              - uses: docker://alpine:3.20
        """,
    )
    assert [(f.check, f.severity, f.file, f.line) for f in findings] == [
        ("action-pin", "error", ".github/workflows/pr.yml", 10),
        ("action-pin", "warning", ".github/workflows/pr.yml", 11),
    ]
    assert "actions/setup-python@v5" in findings[0].message
    assert "40-hex commit sha" in findings[0].fix


def test_a_composite_action_by_branch_is_named(tmp_path: Path) -> None:
    action = tmp_path / ".github" / "actions" / "setup" / "action.yml"
    action.parent.mkdir(parents=True)
    action.write_text(
        "name: setup\nruns:\n  using: composite\n  steps:\n    - uses: astral-sh/setup-uv@main\n"
    )
    [finding] = check_workflows(tmp_path)
    assert (finding.file, finding.line) == (".github/actions/setup/action.yml", 5)


def test_a_pull_request_job_that_can_write_is_named_at_the_scope(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        f"""\
        on:
          pull_request:
        permissions:
          contents: read
          pull-requests: write
        jobs:
          report:
            runs-on: ubuntu-24.04
            steps:
              - uses: actions/checkout@{SHA}
              - run: mlgitops report --base "$BASE"
        """,
    )
    assert [(f.check, f.line) for f in findings] == [("workflow-permissions", 5)]
    assert "pull-requests: write" in findings[0].message


def test_publishing_may_write_comments_but_not_packages(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        """\
        on:
          workflow_run:
            workflows: [pr]
            types: [completed]
        permissions: {}
        jobs:
          publish:
            runs-on: ubuntu-24.04
            permissions:
              actions: read
              contents: write
              pull-requests: write
              packages: write
            steps:
              - run: mlgitops comment --report report
        """,
        name="pr-comment.yml",
    )
    assert [(f.check, f.line) for f in findings] == [("workflow-permissions", 13)]
    assert "packages: write" in findings[0].message


def test_a_local_comment_action_is_publishing_also_with_steps_after_it(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        """\
        on:
          workflow_run:
            workflows: [pr]
            types: [completed]
        permissions: {}
        jobs:
          publish:
            runs-on: ubuntu-24.04
            permissions:
              actions: read
              contents: write
              pull-requests: write
            steps:
              - run: mlgitops gate --report report/report.json  # labels a failed gate
              - uses: ./.github/actions/comment
              - run: echo published
        """,
        name="pr-comment.yml",
    )
    assert findings == []  # judged as the publisher, whose grants these are


def test_no_permissions_block_is_an_error_where_the_report_runs(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        """\
        on: pull_request
        jobs:
          report:
            runs-on: ubuntu-24.04
            steps:
              - run: mlgitops report --base "$BASE"
        """,
    )
    assert [(f.check, f.severity, f.line) for f in findings] == [
        ("workflow-permissions", "error", 3)
    ]


def test_elsewhere_no_permissions_or_write_all_is_a_warning(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        """\
        on: push
        jobs:
          build:
            runs-on: ubuntu-24.04
            steps:
              - run: make
        """,
    )
    assert [(f.check, f.severity, f.line) for f in findings] == [
        ("workflow-permissions", "warning", 3)
    ]
    findings = _workflow(
        tmp_path,
        """\
        on: push
        permissions: write-all
        jobs:
          build:
            runs-on: ubuntu-24.04
            steps:
              - run: make
        """,
    )
    assert [(f.check, f.severity, f.line) for f in findings] == [
        ("workflow-permissions", "warning", 2)
    ]


def test_a_caller_of_the_reusable_publisher_is_judged_as_publishing(tmp_path: Path) -> None:
    findings = _workflow(
        tmp_path,
        f"""\
        on:
          workflow_run:
            workflows: [mlgitops-pr]
            types: [completed]
        permissions: {{}}
        jobs:
          publish:
            permissions:
              pull-requests: write
              deployments: write
            uses: octo/mlgitops/.github/workflows/reusable-comment.yml@{SHA}
        """,
        name="mlgitops-comment.yml",
    )
    assert [(f.check, f.severity, f.line) for f in findings] == [
        ("workflow-permissions", "error", 10)
    ]


def test_a_release_job_may_write_what_it_needs(tmp_path: Path) -> None:
    """Permissions are judged against the report's needs only where the report runs."""
    assert not _workflow(
        tmp_path,
        """\
        on: push
        permissions: {}
        jobs:
          image:
            runs-on: ubuntu-24.04
            permissions:
              packages: write
              id-token: write
            steps:
              - run: make image
        """,
    )


def test_this_repositorys_workflows_are_clean() -> None:
    assert list(check_workflows(REPO_ROOT)) == []


def test_yaml_lines_follow_keys_and_items(tmp_path: Path) -> None:
    path = tmp_path / "dvc.yaml"
    path.write_text(
        "stages:\n  ev:\n    metrics:\n      - a.json\n      - b.json:\n          cache: false\n"
    )
    parsed = YamlFile.read(path)
    assert parsed is not None
    assert parsed.line("stages", "ev") == 2
    assert parsed.line("stages", "ev", "metrics", "a.json") == 4
    assert parsed.line("stages", "ev", "metrics", "b.json", "cache") == 6
    assert parsed.line("stages", "ev", "plots") == 2  # nearest found
    assert parsed.line("stages", "ev", "plots", exact=True) is None


def _reads(source: str) -> list[ParamsRead]:
    return params_reads(ast.parse(dedent(source)))


def test_params_reads_through_yaml_aliases_and_params_show() -> None:
    reads = _reads(
        """\
        import yaml
        from pathlib import Path
        import dvc.api

        PARAMS = Path("params.yaml")
        params = yaml.safe_load(PARAMS.read_text())
        train = params["train"]
        lr = train["lr"]
        depth = params["train"]["depth"]
        with open("params.yaml") as handle:
            other = yaml.safe_load(handle)["evaluate"].get("threshold")
        shown = dvc.api.params_show()["prepare"]["rows"]
        """
    )
    assert [(r.file, r.key, r.line) for r in reads] == [
        ("params.yaml", "train.lr", 8),
        ("params.yaml", "train.depth", 9),
        ("params.yaml", "evaluate.threshold", 11),
        (ANY_FILE, "prepare.rows", 12),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "params = load_params('train')\nx = params['lr']\n",  # a helper: not visible statically
        "import yaml\nparams = yaml.safe_load(open(path))\nx = params['a']\n",  # computed path
        "import yaml\np = yaml.safe_load(open('params.yaml'))\nx = p[key]\n",  # computed key
        "import yaml\np = yaml.safe_load(open('params.yaml'))\nfit(**p)\n",  # the whole file
        "import yaml\np = yaml.safe_load(open('params.yaml'))\np = {}\nx = p['a']\n",  # rebound
    ],
)
def test_params_reads_stay_quiet_when_unsure(source: str) -> None:
    assert _reads(source) == []


def test_a_section_passed_on_whole_is_read_whole() -> None:
    reads = _reads(
        "import yaml\np = yaml.safe_load(open('params.yaml'))\nt = p['train']\nfit(**t)\n"
    )
    assert [(r.key, r.line) for r in reads] == [("train", 3)]


def test_literals_skip_docstrings_and_fstrings() -> None:
    tree = ast.parse('"""Reads data/x.csv."""\nA = "data/y.csv"\nB = f"data/{A}.csv"\n')
    assert [(lit.text, lit.line) for lit in literals(tree)] == [("data/y.csv", 2)]


def test_stage_script_from_the_command(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "train.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run.py").write_text("")
    assert stage_script(tmp_path, ".", "python -m pkg.train") == "src/pkg/train.py"
    assert stage_script(tmp_path, "sub", "SEED=1 python3 -u run.py --fast") == "sub/run.py"
    assert stage_script(tmp_path, ".", "python -c 'print(1)'") is None
    assert stage_script(tmp_path, ".", "Rscript fit.R") is None
