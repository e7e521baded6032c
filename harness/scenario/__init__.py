"""Scenario files: a YAML description of the loop (and of generated inputs) that the harness runs.

    load_scenario(path) -> Scenario          parse and validate, errors name file and line
    ScenarioRunner(session).run(scenario)    run it against a deployed stack -> ScenarioResult
"""
