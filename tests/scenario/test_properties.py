"""The property run's invariants and reproduce commands (pure)."""

from __future__ import annotations

import json
import shlex

from harness.scenario.examples import BodyExample, FeaturesExample, example_from_json
from harness.scenario.properties import invariant_problems, reproduce_commands

CLASSES = (0, 1, 2)


def test_valid_input_needs_200_and_one_class_per_row():
    assert invariant_problems(True, 2, 200, {"predictions": [0, 2]}, CLASSES) == []
    assert invariant_problems(True, 2, 200, {"predictions": [0, 5, 1]}, CLASSES) == [
        "2 row(s) must give 2 prediction(s), got 3",
        "predictions must be among the classes [0, 1, 2], got [5]"]
    assert invariant_problems(True, 1, 400, {"message": "m"}, CLASSES) == [
        'a valid input must give 200, got 400 {"message": "m"}']


def test_invalid_input_needs_a_4xx_with_a_message():
    assert invariant_problems(False, 0, 400, {"message": "bad", "error": "X"}, CLASSES) == []
    assert invariant_problems(False, 0, 200, {"predictions": []}, CLASSES) == [
        'an invalid input must give a 4xx, got 200 {"predictions": []}']
    assert invariant_problems(False, 0, 403, {"message": " "}, CLASSES) == [
        'a 4xx must carry a message, got {"message": " "}']


def test_no_input_may_give_a_5xx():
    for valid in (True, False):
        assert invariant_problems(valid, 1, 502, {"message": "Internal server error"},
                                  CLASSES) == [
            'no input may give a 5xx: got 502 {"message": "Internal server error"}']


def test_the_reproduce_command_replays_the_example_exactly():
    example = FeaturesExample("npy", "float64", (1, 4), (float("nan"), 0.0, 0.0, 0.0))
    replay, search = reproduce_commands("scenarios/my file.yaml")(example, 7, False)
    words = shlex.split(replay)
    assert words[:4] == ["harness", "run", "scenarios/my file.yaml", "--only-example"]
    assert example_from_json(json.loads(words[4])).describe() == example.describe()
    assert search == "harness run 'scenarios/my file.yaml' --seed 7"


def test_a_huge_example_goes_to_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = BodyExample(b"a" * 5000, "application/json", "huge")
    replay, again = reproduce_commands("s.yaml")(example, None, True)
    argument = shlex.split(replay)[-1]
    assert argument.startswith("@.harness/failures/")
    saved = json.loads((tmp_path / argument[1:]).read_text())
    assert example_from_json(saved) == example
    assert again == "harness run s.yaml --ci"
