"""The GitHub Action (action.yml) and the workflow that uses it on our device
(.github/workflows/powercut.yml): valid against the schemas GitHub's files follow (as
shipped by the check-jsonschema package), and their scripts run here as they would on a
runner, with the inputs the workflow gives (GitHub itself cannot run here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).parents[1]
ACTION = REPO / "action.yml"
WORKFLOW = REPO / ".github" / "workflows" / "powercut.yml"
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _schema(name: str) -> dict[str, Any]:
    check_jsonschema = pytest.importorskip("check_jsonschema")
    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / name
    return dict(json.loads(path.read_text()))


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:               # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return dict(data)


def _errors(schema: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    cls = jsonschema.validators.validator_for(schema)
    return [f"{list(e.path)}: {e.message}" for e in cls(schema).iter_errors(doc)]


def test_the_action_is_a_valid_composite_action() -> None:
    action = _yaml(ACTION)
    assert _errors(_schema("github-actions.json"), action) == []
    assert action["runs"]["using"] == "composite"


def test_the_workflow_is_valid() -> None:
    assert _errors(_schema("github-workflows.json"), _yaml(WORKFLOW)) == []


def test_the_schemas_catch_a_broken_action() -> None:
    action = _yaml(ACTION)
    action["runs"]["steps"][1].pop("shell")          # a composite run step needs its shell
    assert _errors(_schema("github-actions.json"), action)


def test_scripts_take_inputs_from_the_environment_only() -> None:
    for step in _yaml(ACTION)["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"


def test_the_workflow_uses_only_inputs_the_action_declares() -> None:
    declared = set(_yaml(ACTION)["inputs"])
    uses = [s for job in _yaml(WORKFLOW)["jobs"].values() for s in job["steps"]
            if s.get("uses") == "./"]
    assert len(uses) >= 3
    for step in uses:
        assert set(step.get("with", {})) <= declared, step["name"]


# --- the scripts, run here -------------------------------------------------------------
class Runner:
    """Runs an action step's script as a runner would: its env with ${{ }} expressions
    replaced (inputs, step outputs), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files."""

    def __init__(self, workdir: Path, inputs: dict[str, str]) -> None:
        action = _yaml(ACTION)
        self.steps = {s["name"]: s for s in action["runs"]["steps"]}
        self.inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
        self.inputs |= inputs
        self.outputs: dict[str, dict[str, str]] = {}
        self.workdir = workdir

    def _value(self, expr: str) -> str:
        scope, _, name = expr.partition(".")
        if scope == "inputs":
            return self.inputs[name]
        if scope == "steps":
            step, _, output = name.partition(".outputs.")
            return self.outputs.get(step, {}).get(output, "")
        if expr == "github.action_path":
            return str(REPO)
        raise AssertionError(f"no value for ${{{{ {expr} }}}} in this test")

    def run(self, name: str) -> int:
        step = self.steps[name]
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        for key, value in step.get("env", {}).items():
            env[key] = EXPR.sub(lambda m: self._value(m.group(1)), str(value))
        out, summary = self.workdir / "github-output", self.workdir / "step-summary"
        out.write_text("")
        env |= {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
        proc = subprocess.run(["bash", "-c", step["run"]], cwd=self.workdir, env=env,
                              capture_output=True, text=True, check=False, timeout=600)
        if "id" in step:
            self.outputs[step["id"]] = dict(line.split("=", 1)
                                            for line in out.read_text().splitlines())
        self.log = proc.stdout + proc.stderr
        return proc.returncode


def _job_inputs(job: str) -> dict[str, str]:
    step = next(s for s in _yaml(WORKFLOW)["jobs"][job]["steps"] if s.get("uses") == "./")
    return {k: str(v) for k, v in step["with"].items()}


@pytest.fixture
def workdir(built: Path, tmp_path: Path) -> Path:
    """A checkout as the workflow sees it: build/ and devices/ in the working directory."""
    (tmp_path / "build").symlink_to(built)
    (tmp_path / "devices").symlink_to(REPO / "devices")
    return tmp_path


def test_the_known_bad_job_finds_failing_cuts_and_fails_the_step(workdir: Path) -> None:
    runner = Runner(workdir, _job_inputs("known-bad"))
    assert runner.run("Run the power-cut campaign") == 0, runner.log
    status, failures = runner.outputs["campaign"]["status"], runner.outputs["campaign"][
        "failures"]
    assert status == "1" and int(failures) > 0, runner.log
    reports = workdir / runner.inputs["reports"]
    for name in ("powercut.json", "powercut-junit.xml", "powercut.html", "powercut.sarif"):
        assert (reports / name).is_file()
    assert "replay: pybench powercut" in (workdir / "step-summary").read_text()
    runner.inputs["fail-on-failure"] = "true"
    assert runner.run("Fail on a failing cut") == 1
    assert f"exited 1 ({failures} failing cuts)" in runner.log


def test_the_shard_jobs_and_their_merge(workdir: Path) -> None:
    """The matrix's shards (their plan cut down to the journal phase, to stay short),
    then the merge job's own command."""
    for k, shard in enumerate(["1/2", "2/2"]):
        inputs = _job_inputs("shard") | {"shard": shard}
        inputs["args"] += " --phase journal"
        inputs["reports"] = f"shards/powercut-shard-{k}"
        runner = Runner(workdir, inputs)
        assert runner.run("Run the power-cut campaign") == 0, runner.log
        assert runner.outputs["campaign"]["status"] == "0", runner.log
    merge = next(s["run"] for s in _yaml(WORKFLOW)["jobs"]["merge"]["steps"]
                 if s.get("name") == "Merge the shards' reports")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", merge], cwd=workdir, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    merged = json.loads((workdir / "powercut-merged" / "powercut.json").read_text())
    assert merged["summary"]["cuts"] > 0 and merged["summary"]["failures"] == 0
