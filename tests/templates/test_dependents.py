"""What refers to what in a template: the references an update follows, the cycles refused."""

from __future__ import annotations

from harness.aws_state.cfn_dependents import dependency_cycle, references


def test_references_in_ref_getatt_and_sub() -> None:
    assert references({"A": {"Ref": "X"}, "B": [{"Fn::GetAtt": ["Y", "Arn"]},
                                               {"Fn::GetAtt": "Z.Arn"}],
                       "C": {"Fn::Sub": "arn:${AWS::Region}:${W}/${V.Arn}"},
                       "D": {"Fn::Sub": ["${Local}", {"Local": {"Ref": "U"}}]}}) == {
        "X", "Y", "Z", "W", "V", "U", "Local"}  # pseudo parameters are no resources


def test_cycles_through_properties_and_depends_on() -> None:
    template = {"Resources": {
        "A": {"Type": "T", "Properties": {"P": {"Ref": "B"}}},
        "B": {"Type": "T", "DependsOn": "C"},
        "C": {"Type": "T", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}},
        "D": {"Type": "T", "Properties": {"P": {"Ref": "A"}}}}}
    assert dependency_cycle(template) == ["A", "B", "C"]
    del template["Resources"]["B"]["DependsOn"]
    assert dependency_cycle(template) == []
    assert dependency_cycle({"Resources": {"A": {"Type": "T", "DependsOn": ["A"]}}}) == ["A"]
