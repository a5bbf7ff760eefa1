"""Scenario files are validated on load, with an error that names the file
and the problem; `manage.py check` reports a broken one."""

import copy

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from hub.training.scenarios import ScenarioError, load_directory, load_scenarios, parse_scenario
from tests.training.samples import VALID

def broken(change) -> str:
    data = copy.deepcopy(VALID)
    change(data)
    return yaml.safe_dump(data)


def test_a_valid_file_loads():
    scenario = parse_scenario(yaml.safe_dump(VALID), "tiny.yaml")
    assert scenario.slug == "tiny" and scenario.target_response_seconds == 30 and len(scenario.version) == 16
    assert scenario.nodes["hello"].rules[0].when[0].qualifier == "greeting"


@pytest.mark.parametrize("change,message", [
    (lambda d: d.pop("persona"), "tiny.yaml: missing persona"),
    (lambda d: d.update(colour="blue"), "tiny.yaml: unknown key colour"),
    (lambda d: d.update(channel="fax"), "tiny.yaml: channel: 'fax' is not one of sms, chat, voice"),
    (lambda d: d.update(department="radiology"), "tiny.yaml: department: 'radiology' is not one of"),
    (lambda d: d.update(start="nowhere"), "tiny.yaml: start: there is no node 'nowhere'"),
    (lambda d: d["nodes"]["hello"]["then"][0].update(to="gone"),
     "tiny.yaml: nodes.hello.then[0].to: there is no node 'gone'"),
    (lambda d: d["nodes"]["hello"]["then"][0].update({"if": "reply:flattery"}),
     "tiny.yaml: nodes.hello.then[0].if: 'reply:flattery': 'flattery' is not known here"),
    (lambda d: d["nodes"]["hello"]["then"][0].update({"if": "transfer:radiology"}), "'radiology' is not known here"),
    (lambda d: d["nodes"]["hello"]["then"][0].update({"if": "wave"}), "unknown action 'wave'"),
    (lambda d: d["nodes"]["hello"]["patient"][0].update(delay=-1), "nodes.hello.patient[0].delay: must be a number"),
    (lambda d: d["nodes"]["hello"]["patient"][0].update(text=""), "nodes.hello.patient[0].text: must be a non-empty"),
    (lambda d: d["nodes"].update(orphan={"end": {"outcome": "resolved", "need_met": True, "summary": "x"}}),
     "tiny.yaml: nodes: not reachable from the start: orphan"),
    (lambda d: d["nodes"]["hello"]["then"].append({"if": "reply", "to": "loop"})
     or d["nodes"].update(loop={"patient": [{"text": "again"}], "then": [{"if": "reply", "to": "loop"}]}),
     "tiny.yaml: nodes: no path to an end node from: loop"),
    (lambda d: d["nodes"]["done"].update(then=[{"if": "reply", "to": "hello"}]), "an end node has no 'then' rules"),
    (lambda d: d["nodes"]["hello"].pop("then"), "nodes.hello: needs 'then' rules"),
    (lambda d: d["nodes"]["done"]["end"].update(outcome="won"), "nodes.done.end.outcome: 'won' is not one of"),
    (lambda d: d["routing"].update(expected=["reply:psychic"]), "routing.expected: 'reply:psychic'"),
    (lambda d: d.update(slug="Not A Slug"), "slug: 'Not A Slug' is not a slug"),
])
def test_validation_errors_name_the_file_and_the_problem(change, message):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(broken(change), "tiny.yaml")
    assert message in str(caught.value)


def test_a_file_that_is_not_yaml():
    with pytest.raises(ScenarioError, match=r"^bad\.yaml: not valid YAML"):
        parse_scenario("slug: [unclosed", "bad.yaml")


def test_the_slug_must_be_the_file_name(tmp_path):
    (tmp_path / "other-name.yaml").write_text(yaml.safe_dump(VALID))
    with pytest.raises(ScenarioError, match=r"^other-name\.yaml: slug: 'tiny' must be the file name"):
        load_directory(tmp_path)


def test_scenarios_reload_when_a_file_changes(tmp_path, settings):
    settings.TRAINING_SCENARIO_DIR = str(tmp_path)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert [s.title for s in load_scenarios()] == ["Tiny"]
    path.write_text(yaml.safe_dump({**VALID, "title": "Tiny, revised"}))
    assert [s.title for s in load_scenarios()] == ["Tiny, revised"]


def test_manage_py_check_reports_a_broken_scenario(tmp_path, settings):
    settings.TRAINING_SCENARIO_DIR = str(tmp_path)
    (tmp_path / "tiny.yaml").write_text(broken(lambda d: d.update(channel="fax")))
    with pytest.raises(SystemCheckError, match=r"training\.E001.*tiny\.yaml: channel"):
        call_command("check")
