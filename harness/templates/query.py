"""CloudFormation's Query protocol: the form a client posts in, the XML it parses out."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


@dataclass(frozen=True)
class QueryForm:
    """The decoded form of one request, in its order (it is re-encoded for moto unchanged)."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def decode(cls, body: bytes) -> QueryForm:
        return cls(tuple(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))

    def encode(self) -> bytes:
        return urlencode(self.pairs).encode()

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def replaced(self, drop: tuple[str, ...], add: dict[str, str]) -> QueryForm:
        kept = tuple((k, v) for k, v in self.pairs if k not in drop and k not in add)
        return QueryForm(kept + tuple(add.items()))

    def members(self, name: str) -> list[dict[str, str]]:
        """``Name.member.N.Field`` pairs as a list of {Field: value}, in N order."""
        found: dict[int, dict[str, str]] = {}
        prefix = f"{name}.member."
        for key, value in self.pairs:
            if not key.startswith(prefix):
                continue
            index, _, sub = key[len(prefix):].partition(".")
            if index.isdigit():
                found.setdefault(int(index), {})[sub] = value
        return [found[i] for i in sorted(found)]

    def member_list(self, name: str) -> list[str]:
        return [m.get("", "") for m in self.members(name)]


@dataclass(frozen=True)
class StackInput:
    """What CreateStack and UpdateStack carry besides the template."""

    name: str
    parameters: dict[str, str] = field(default_factory=dict)
    previous: tuple[str, ...] = ()  # parameters given with UsePreviousValue
    tags: dict[str, str] = field(default_factory=dict)
    notification_arns: tuple[str, ...] = ()
    role_arn: str | None = None
    timeout_minutes: int | None = None
    on_failure: str = "ROLLBACK"


def stack_input(form: QueryForm) -> StackInput:
    parameters: dict[str, str] = {}
    previous: list[str] = []
    for member in form.members("Parameters"):
        key = member.get("ParameterKey", "")
        if member.get("UsePreviousValue", "").lower() == "true":
            previous.append(key)
        else:
            parameters[key] = member.get("ParameterValue", "")
    timeout = form.get("TimeoutInMinutes")
    on_failure = form.get("OnFailure") or (
        "DO_NOTHING" if form.get("DisableRollback").lower() == "true" else "ROLLBACK")
    return StackInput(
        name=form.get("StackName"), parameters=parameters, previous=tuple(previous),
        tags={m.get("Key", ""): m.get("Value", "") for m in form.members("Tags")},
        notification_arns=tuple(form.member_list("NotificationARNs")),
        role_arn=form.get("RoleARN") or None,
        timeout_minutes=int(timeout) if timeout.isdigit() else None, on_failure=on_failure)


def _element(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"


def result_xml(action: str, fields: dict[str, str | None], request_id: str) -> bytes:
    """``<ActionResponse><ActionResult>fields</ActionResult>...``, as CloudFormation answers."""
    inner = "".join(_element(name, value) for name, value in fields.items())
    # The Result element is there even when empty: the AWS CLI reads it.
    result = f"<{action}Result>{inner}</{action}Result>"
    return (f'<{action}Response xmlns="{NAMESPACE}">{result}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{action}Response>").encode()


def error_xml(code: str, message: str, request_id: str, error_type: str = "Sender") -> bytes:
    return (f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{escape(error_type)}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
