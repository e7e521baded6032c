"""CloudFormation on the emulator's endpoint: a WSGI middleware in front of moto's app.

CreateStack, UpdateStack and ExecuteChangeSet are served here (the SAM transform first, a
rollback when a resource fails); CreateChangeSet and ValidateTemplate reach moto with the
template resolved from ``TemplateURL`` (and transformed, for a change set); every other request
passes through.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterable

from harness.emulator.wsgi import StartResponse, WsgiEnviron, read_body, region_of, send
from harness.errors import AwsError
from harness.faults.s3 import signed_service
from harness.http import HttpResponse
from harness.http_core import RAW_HEADERS_KEY
from harness.templates.errors import TemplateError
from harness.templates.query import QueryForm, error_xml

log = logging.getLogger(__name__)

WsgiApp = Callable[[WsgiEnviron, StartResponse], Iterable[bytes]]
MAX_FORM_BODY = 2 * 1024 * 1024  # above CloudFormation's 51,200-byte TemplateBody, URL-encoded
_TEMPLATE_ACTIONS = ("CreateChangeSet", "ValidateTemplate")
# Served by harness.templates.actions (the function of that name).
_OWN_ACTIONS = {"CreateStack": "create_stack", "UpdateStack": "update_stack",
                "ExecuteChangeSet": "execute_change_set", "DeleteStack": "delete_stack"}
_XML = (("Content-Type", "text/xml"),)


class CloudFormationMiddleware:
    """Serves CloudFormation's write actions over moto's stacks; the rest goes to ``app``."""

    def __init__(self, app: WsgiApp, *, default_region: str = "us-east-1") -> None:
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
        try:
            # Imported at the first CloudFormation request: moto's CloudFormation imports every
            # moto service (twice moto's own start-up) and aws-sam-translator takes ~0.5 s, which
            # an emulator that never sees a template must not pay at its start.
            from harness.templates import actions

            where = actions.where_of(environ.get("HTTP_AUTHORIZATION", ""),
                                     environ.get("HTTP_X_MOTO_ACCOUNT_ID"),
                                     region_of(environ) or self._default_region)
            own = _OWN_ACTIONS.get(action)
            if own is not None:
                return send(getattr(actions, own)(form, where), start_response)
            if action in _TEMPLATE_ACTIONS and _has_template(form):
                body = actions.resolved(form, where,
                                        transform=action != "ValidateTemplate").encode()
        except AwsError as error:
            return send(_error(error), start_response)
        except Exception as error:  # a bug of ours or moto's: AWS's 500, and the traceback logged
            log.exception("CloudFormation %s failed", action)
            return send(_error(AwsError(f"{type(error).__name__}: {error}",
                                        code="InternalFailure", status=500)), start_response)
        return self._app(_with_body(environ, body), start_response)


def _has_template(form: QueryForm) -> bool:
    return bool(form.get("TemplateBody") or form.get("TemplateURL"))


def _error(error: AwsError) -> HttpResponse:
    error_type = "Receiver" if error.status >= 500 else "Sender"
    return HttpResponse(error.status, _XML,
                        error_xml(error.code, error.message, str(uuid.uuid4()), error_type))


def _with_body(environ: WsgiEnviron, body: bytes) -> WsgiEnviron:
    """The environ again, its body (already read, maybe rewritten) readable by moto."""
    copied = {k: v for k, v in environ.items() if k != RAW_HEADERS_KEY}
    copied["wsgi.input"] = io.BytesIO(body)
    copied["CONTENT_LENGTH"] = str(len(body))
    copied.pop("HTTP_TRANSFER_ENCODING", None)
    return copied
