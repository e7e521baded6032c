"""CloudFormation's actions that the harness serves itself, over moto's stacks (the heavy half
of harness.templates.endpoint: it imports moto's CloudFormation and aws-sam-translator)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from harness.aws_state import cfn_change_sets, cfn_delete, cfn_update
from harness.aws_state import cloudformation as cfn_state
from harness.http import HttpResponse
from harness.templates.errors import TemplateError
from harness.templates.locations import s3_location
from harness.templates.parameters import check_parameters
from harness.templates.parse import parse_template
from harness.templates.query import QueryForm, StackInput, result_xml, stack_input
from harness.templates.sam import is_sam, sam_transform

XML = (("Content-Type", "text/xml"),)

cfn_state.install()  # moto's model caches, cleared when CloudFormation is first used


@dataclass(frozen=True)
class Where:
    """The account (moto's, from the access key) and region a request was signed for."""

    account_id: str
    region: str


def where_of(authorization: str, moto_account: str | None, region: str) -> Where:
    return Where(cfn_state.account_for(authorization, moto_account), region)


def answer(action: str, fields: dict[str, str | None]) -> HttpResponse:
    return HttpResponse(200, XML, result_xml(action, fields, str(uuid.uuid4())))


def template_text(form: QueryForm, account_id: str) -> str:
    """TemplateBody, or the object TemplateURL names in the emulator's own S3."""
    url = form.get("TemplateURL")
    if url and not form.get("TemplateBody"):
        bucket, key = s3_location(url)
        raw = cfn_state.read_object(account_id, bucket, key)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TemplateError(f"TemplateURL {url}: the template is not UTF-8") from None
    text = form.get("TemplateBody")
    if not text:
        raise TemplateError("Either Template URL or Template Body must be specified.")
    return text


def processed(text: str, inputs: StackInput, where: Where) -> tuple[str, dict[str, Any]]:
    """(text for moto, template dict): a SAM template transformed, others as they came."""
    template = parse_template(text)
    check_parameters(template.get("Parameters") or {}, inputs.parameters, inputs.previous)
    if not is_sam(template):
        return text, template
    result = sam_transform(template, inputs.parameters, region=where.region,
                           account_id=where.account_id, stack_name=inputs.name)
    return json.dumps(result), result


def resolved(form: QueryForm, where: Where, *, transform: bool) -> QueryForm:
    """The form with its template in TemplateBody (and transformed, if ``transform``)."""
    text = template_text(form, where.account_id)
    if transform:
        text, _ = processed(text, stack_input(form), where)
    return form.replaced(("TemplateURL",), {"TemplateBody": text})


def create_stack(form: QueryForm, where: Where) -> HttpResponse:
    inputs = stack_input(form)
    if not inputs.name:
        raise TemplateError("1 validation error detected: Value null at 'stackName' "
                            "failed to satisfy constraint: Member must not be null")
    text, template = processed(template_text(form, where.account_id), inputs, where)
    stack_id = cfn_state.create_stack(where.account_id, where.region, cfn_state.NewStack(
        name=inputs.name, template_text=text, template=template,
        parameters=inputs.parameters, tags=inputs.tags,
        notification_arns=inputs.notification_arns, role_arn=inputs.role_arn,
        timeout_minutes=inputs.timeout_minutes,
        rollback=inputs.on_failure != "DO_NOTHING"))
    return answer("CreateStack", {"StackId": stack_id})


def update_stack(form: QueryForm, where: Where) -> HttpResponse:
    inputs = stack_input(form)
    if form.get("UsePreviousTemplate").lower() == "true":
        text = cfn_state.template_of(where.account_id, where.region, inputs.name)
    else:
        text = template_text(form, where.account_id)
    text, template = processed(text, inputs, where)
    parameters: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v}
                                         for k, v in inputs.parameters.items()]
    parameters += [{"ParameterKey": k, "UsePreviousValue": True} for k in inputs.previous]
    stack_id = cfn_update.update_stack(
        where.account_id, where.region, inputs.name, text, template, parameters,
        inputs.tags or None, inputs.role_arn)
    return answer("UpdateStack", {"StackId": stack_id})


def execute_change_set(form: QueryForm, where: Where) -> HttpResponse:
    cfn_change_sets.execute_change_set(where.account_id, where.region,
                                       form.get("ChangeSetName"), form.get("StackName") or None)
    return answer("ExecuteChangeSet", {})


def delete_stack(form: QueryForm, where: Where) -> HttpResponse:
    retain = tuple(form.member_list("RetainResources"))
    cfn_delete.delete_stack(where.account_id, where.region, form.get("StackName"), retain)
    return answer("DeleteStack", {})
