"""CloudFormation on the emulator's endpoint: a WSGI middleware in front of moto's app.

CreateStack, UpdateStack and ExecuteChangeSet are served here (the SAM transform first, a
rollback when a resource fails); CreateChangeSet and ValidateTemplate reach moto with the
template resolved from ``TemplateURL`` (and transformed, for a change set); every other request
passes through.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.aws_state import cfn_update
from harness.aws_state import cloudformation as cfn_state
from harness.emulator.wsgi import StartResponse, WsgiEnviron, read_body, region_of, send
from harness.errors import AwsError
from harness.faults.s3 import signed_service
from harness.http import HttpResponse
from harness.templates.errors import TemplateError
from harness.templates.locations import s3_location
from harness.templates.parse import parse_template
from harness.templates.query import QueryForm, StackInput, error_xml, result_xml, stack_input
from harness.templates.sam import is_sam, sam_transform

log = logging.getLogger(__name__)

WsgiApp = Callable[[WsgiEnviron, StartResponse], Iterable[bytes]]
MAX_FORM_BODY = 2 * 1024 * 1024  # above CloudFormation's 51,200-byte TemplateBody, URL-encoded
_TEMPLATE_ACTIONS = ("CreateChangeSet", "ValidateTemplate")
_XML = (("Content-Type", "text/xml"),)


@dataclass(frozen=True)
class _Where:
    """The account (moto's, from the access key) and region a request was signed for."""

    account_id: str
    region: str


class CloudFormationMiddleware:
    """Serves CloudFormation's write actions over moto's stacks; the rest goes to ``app``."""

    def __init__(self, app: WsgiApp, *, default_region: str = "us-east-1") -> None:
        cfn_state.install()
        self._app = app
        self._default_region = default_region

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") != "POST"
                or signed_service(environ.get("HTTP_AUTHORIZATION", "")) != "cloudformation"):
            return self._app(environ, start_response)
        try:
            body = read_body(environ, MAX_FORM_BODY)
        except AwsError as error:
            return send(_error(TemplateError(error.message)), start_response)
        form = QueryForm.decode(body)
        action = form.get("Action")
        where = _Where(cfn_state.account_for(environ.get("HTTP_AUTHORIZATION", ""),
                                             environ.get("HTTP_X_MOTO_ACCOUNT_ID")),
                       region_of(environ) or self._default_region)
        try:
            if action == "CreateStack":
                return send(self._create_stack(form, where), start_response)
            if action == "UpdateStack":
                return send(self._update_stack(form, where), start_response)
            if action == "ExecuteChangeSet":
                cfn_state.execute_change_set(where.account_id, where.region,
                                             form.get("ChangeSetName"),
                                             form.get("StackName") or None)
                return send(HttpResponse(200, _XML, result_xml("ExecuteChangeSet", {},
                                                               str(uuid.uuid4()))), start_response)
            if action in _TEMPLATE_ACTIONS and _has_template(form):
                body = self._resolved(form, where,
                                      transform=action != "ValidateTemplate").encode()
        except AwsError as error:
            return send(_error(error), start_response)
        except Exception as error:  # a bug of ours or moto's: AWS's 500, and the traceback logged
            log.exception("CloudFormation %s failed", action)
            return send(_error(AwsError(f"{type(error).__name__}: {error}",
                                        code="InternalFailure", status=500)), start_response)
        return self._app(_with_body(environ, body), start_response)

    def _template_text(self, form: QueryForm, account_id: str) -> str:
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

    def _processed(self, text: str, inputs: StackInput,
                   where: _Where) -> tuple[str, dict[str, Any]]:
        """(text for moto, template dict): a SAM template transformed, others as they came."""
        template = parse_template(text)
        if not is_sam(template):
            return text, template
        processed = sam_transform(template, inputs.parameters, region=where.region,
                                  account_id=where.account_id, stack_name=inputs.name)
        return json.dumps(processed), processed

    def _resolved(self, form: QueryForm, where: _Where, *, transform: bool) -> QueryForm:
        text = self._template_text(form, where.account_id)
        if transform:
            text, _ = self._processed(text, stack_input(form), where)
        return form.replaced(("TemplateURL",), {"TemplateBody": text})

    def _create_stack(self, form: QueryForm, where: _Where) -> HttpResponse:
        inputs = stack_input(form)
        if not inputs.name:
            raise TemplateError("1 validation error detected: Value null at 'stackName' "
                                "failed to satisfy constraint: Member must not be null")
        text, template = self._processed(self._template_text(form, where.account_id), inputs,
                                         where)
        stack_id = cfn_state.create_stack(where.account_id, where.region, cfn_state.NewStack(
            name=inputs.name, template_text=text, template=template,
            parameters=inputs.parameters, tags=inputs.tags,
            notification_arns=inputs.notification_arns, role_arn=inputs.role_arn,
            timeout_minutes=inputs.timeout_minutes,
            rollback=inputs.on_failure != "DO_NOTHING"))
        return HttpResponse(200, _XML, result_xml("CreateStack", {"StackId": stack_id},
                                                  str(uuid.uuid4())))


    def _update_stack(self, form: QueryForm, where: _Where) -> HttpResponse:
        inputs = stack_input(form)
        if form.get("UsePreviousTemplate").lower() == "true":
            text = cfn_state.template_of(where.account_id, where.region, inputs.name)
        else:
            text = self._template_text(form, where.account_id)
        text, template = self._processed(text, inputs, where)
        parameters: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v}
                                             for k, v in inputs.parameters.items()]
        parameters += [{"ParameterKey": k, "UsePreviousValue": True} for k in inputs.previous]
        stack_id = cfn_update.update_stack(
            where.account_id, where.region, inputs.name, text, template, parameters,
            inputs.tags or None, inputs.role_arn)
        return HttpResponse(200, _XML, result_xml("UpdateStack", {"StackId": stack_id},
                                                  str(uuid.uuid4())))


def _has_template(form: QueryForm) -> bool:
    return bool(form.get("TemplateBody") or form.get("TemplateURL"))


def _error(error: AwsError) -> HttpResponse:
    error_type = "Receiver" if error.status >= 500 else "Sender"
    return HttpResponse(error.status, _XML,
                        error_xml(error.code, error.message, str(uuid.uuid4()), error_type))


def _with_body(environ: WsgiEnviron, body: bytes) -> WsgiEnviron:
    """The environ again, its body (already read, maybe rewritten) readable by moto."""
    copied = {k: v for k, v in environ.items() if k != "harness.raw_headers"}
    copied["wsgi.input"] = io.BytesIO(body)
    copied["CONTENT_LENGTH"] = str(len(body))
    copied.pop("HTTP_TRANSFER_ENCODING", None)
    return copied
