"""Which requests the harness's listeners serve: the Host check (against DNS rebinding) and the
Origin check (against cross-site requests from web pages). Pure functions over header values;
each listener turns a ``Refusal`` into its own response.

Why both: a page on another site can make the browser send requests to 127.0.0.1 (a "simple"
POST needs no CORS preflight), and a page whose name the attacker re-points at 127.0.0.1 (DNS
rebinding) even reads the answers. The first carries the page's ``Origin``; the second the
page's own name in ``Host``, never an address. So: serve only the names this machine answers
to, and refuse browser requests from foreign origins on everything but users' own APIs.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "*.localhost")
"""Names that always mean this machine (RFC 6761); the loopback addresses are served too."""
SERVED_NAMES = (*LOOPBACK_NAMES, "localhost.localstack.cloud", "*.localhost.localstack.cloud")
"""What the emulator answers to by default: LocalStack's names (execute-api hosts, S3
virtual-hosted buckets) resolve to 127.0.0.1 and users' scripts already use them."""
ANY = "*"
"""In a list of allowed names or origins: switch that check off."""

_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$")
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9a-f:.]+\]|[^/:\[\]]+)"
                     r"(?::(?P<port>\d{1,5}))?$")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: an HTTP status and a one-line message for the client."""

    status: int
    message: str


def host_name(host_header: str) -> str | None:
    """The name or address a ``Host`` value names: lower case, without port, brackets or a
    trailing dot (``[::1]:4566`` -> ``::1``); None when it is not a host[:port] at all."""
    value = host_header.strip().lower()
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not re.fullmatch(r":\d{1,5}", rest)):
            return None
        return _address(address)
    name, colon, port = value.partition(":")
    if colon and not re.fullmatch(r"\d{1,5}", port):
        return None
    name = name[:-1] if name.endswith(".") else name
    if _address(name) is not None:
        return _address(name)
    return name if _NAME.match(name) else None


def _address(text: str) -> str | None:
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def name_matches(name: str, pattern: str) -> bool:
    """``pattern`` is a name, an address, ``*.suffix`` (any name below suffix) or ``*``."""
    if pattern == ANY:
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) and len(name) > len(pattern) - 1
    return name == pattern


def host_allowed(host_header: str | None, allowed_names: Iterable[str], *,
                 any_address: bool = False) -> bool:
    """Whether a request whose ``Host`` is ``host_header`` is for a name this listener serves.

    Loopback addresses are always served; with ``any_address`` (a listener bound to 0.0.0.0 or
    ::) every address is, because a rebinding page sends its name, never an address.
    """
    patterns = tuple(normalise_host_pattern(p) for p in allowed_names)
    return _host_served(host_header, patterns, any_address)


# Cached: every request asks, nearly always with the same few values, and parsing an address
# costs tens of microseconds. Bounded, so a stream of made-up names cannot grow it.
@functools.lru_cache(maxsize=1024)
def _host_served(host_header: str | None, patterns: tuple[str, ...], any_address: bool) -> bool:
    name = None if host_header is None else host_name(host_header)
    if name is None:
        return False
    address = _address(name)
    if address is not None and (any_address or ipaddress.ip_address(address).is_loopback):
        return True
    return any(name_matches(name, pattern) for pattern in patterns)


def origin_allowed(origin: str, allowed_origins: Iterable[str] = ()) -> bool:
    """Whether a page at ``origin`` may use the emulator: http(s) pages on this machine
    (localhost, 127.0.0.1, [::1], any port) and the ``allowed_origins`` (``*`` for any)."""
    return _origin_served(origin, tuple(normalise_origin(o) for o in allowed_origins))


@functools.lru_cache(maxsize=1024)
def _origin_served(origin: str, allowed: tuple[str, ...]) -> bool:
    if ANY in allowed:
        return True
    try:
        normal = normalise_origin(origin)
    except ValueError:
        return False
    if normal in allowed:
        return True
    found = _ORIGIN.match(normal)
    host = host_name(found.group("host")) if found else None
    address = _address(host or "")
    return host == "localhost" or (address is not None
                                   and ipaddress.ip_address(address).is_loopback)


def normalise_host_pattern(text: str) -> str:
    """A name pattern as given to ``--allow-host``, in the form ``name_matches`` compares;
    ValueError naming the problem when it is not a name, an address, ``*.name`` or ``*``."""
    value = text.strip().lower()
    if value == ANY:
        return ANY
    wildcard = value.startswith("*.")
    name = host_name(value[2:] if wildcard else value)
    if name is None or (wildcard and _address(name) is not None):
        raise ValueError(f"{text!r} is not a host name (NAME, *.NAME, an address or *)")
    return f"*.{name}" if wildcard else name


def normalise_origin(text: str) -> str:
    """An origin as browsers send it: ``scheme://host[:port]``, lower case, the default port
    left out; ``null`` and ``*`` stay as they are. ValueError naming the problem otherwise."""
    value = text.strip().lower()
    if value in ("null", ANY):
        return value
    found = _ORIGIN.match(value)
    if found is None or host_name(found.group("host")) is None:
        raise ValueError(f"{text!r} is not an origin (scheme://host[:port], e.g. "
                         "http://localhost:3000)")
    scheme, host, port = found.group("scheme", "host", "port")
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


@dataclass(frozen=True)
class RequestGuard:
    """The Host and Origin policy of one listener."""

    names: tuple[str, ...] = SERVED_NAMES
    """Names served besides the loopback addresses (``*.suffix`` patterns allowed)."""
    origins: tuple[str, ...] = ()
    """Origins allowed besides pages on this machine."""
    any_address: bool = False
    """The listener binds every address: any address in ``Host`` is served."""

    @classmethod
    def for_listener(cls, bind_host: str, extra_names: Iterable[str] = (),
                     extra_origins: Iterable[str] = ()) -> RequestGuard:
        """The policy of a listener bound to ``bind_host``: the default names, that host, and
        the user's; ValueError naming a malformed name or origin."""
        names = [*SERVED_NAMES, *(normalise_host_pattern(n) for n in extra_names)]
        bound = host_name(bind_host) or host_name(f"[{bind_host}]")
        wildcard = bound in ("0.0.0.0", "::")
        if bound is not None and not wildcard:
            names.append(bound)
        origins = tuple(normalise_origin(o) for o in extra_origins)
        return cls(tuple(dict.fromkeys(names)), origins, wildcard)

    def check_host(self, host_header: str | None, protocol: str) -> Refusal | None:
        """None when the request's ``Host`` is served here; else why not (400 or 403)."""
        if host_header is None:
            if protocol.upper() == "HTTP/1.0":
                return None  # HTTP/1.0 has no Host; browsers never speak it
            return Refusal(400, "harness: the request has no Host header (HTTP/1.1 needs one)")
        if _host_served(host_header, self.names, self.any_address):
            return None
        name = host_name(host_header)
        if name is None:
            return Refusal(400, f"harness: Host {host_header[:200]!r} is not a host[:port]")
        return Refusal(403, f"harness: Host {name!r} is not served here; "
                            f"add it with harness up --allow-host {name}")

    def check_browser(self, origin: str | None, fetch_site: str | None) -> Refusal | None:
        """None unless a web page of a foreign origin sent the request (403).

        Browsers send ``Origin`` on every cross-origin request but plain GETs (images, links);
        those carry ``Sec-Fetch-Site: cross-site`` instead, and can change state too (the query
        APIs of IAM and STS take GET).
        """
        if origin is not None:
            if _origin_served(origin, self.origins):
                return None
            shown = origin.strip()[:200]
            return Refusal(403, f"harness: Origin {shown!r} may not use this endpoint; add it "
                                f"with harness up --allow-origin {shown}")
        if (fetch_site or "").strip().lower() == "cross-site" and ANY not in self.origins:
            return Refusal(403, "harness: a cross-site request from a web page "
                                "(Sec-Fetch-Site: cross-site) may not use this endpoint")
        return None


LOOPBACK_ONLY = RequestGuard(names=LOOPBACK_NAMES)
"""The policy of listeners only this machine's own processes use (the Runtime APIs)."""
