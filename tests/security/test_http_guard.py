"""The Host and Origin policy as pure functions: which names and pages the listeners serve."""

from __future__ import annotations

import pytest

from harness.cli.main import build_parser
from harness.cli.up import config_from_args
from harness.config import EmulatorConfig
from harness.errors import UsageError
from harness.http_guard import (
    LOOPBACK_ONLY,
    RequestGuard,
    host_allowed,
    host_name,
    normalise_host_pattern,
    normalise_origin,
    origin_allowed,
)

DEFAULT = RequestGuard.for_listener("127.0.0.1")


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:4566", "127.0.0.1"),
    ("LocalHost.", "localhost"),
    ("localhost.:4566", "localhost"),
    ("[::1]:4566", "::1"),
    ("[0:0:0:0:0:0:0:1]", "::1"),
    ("Bkt.S3.localhost.localstack.cloud:4566", "bkt.s3.localhost.localstack.cloud"),
    ("abc_123.execute-api.localhost", "abc_123.execute-api.localhost"),
    ("", None),
    ("a,b", None),              # two Host headers, joined by the server
    ("127.0.0.1@evil.example", None),
    ("host:port", None),
    ("[::1", None),
    ("[::1]x", None),
    ("evil example", None),
])
def test_host_name_normalises_or_rejects(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize("header", [
    "127.0.0.1:4566", "localhost:4566", "LOCALHOST", "localhost.", "[::1]:4566", "127.0.0.2",
    "bkt.localhost:4566", "abc.execute-api.localhost.localstack.cloud:4566",
    "s3.localhost.localstack.cloud", "localhost.localstack.cloud:4566",
])
def test_this_machines_names_are_served_by_default(header):
    assert DEFAULT.check_host(header, "HTTP/1.1") is None


@pytest.mark.parametrize("header", [
    "rebind.attacker.example", "rebind.attacker.example:4566", "localhost.attacker.example",
    "attacker-localhost", "xlocalhost.localstack.cloud", "10.0.0.8:4566",
    "abc.execute-api.us-east-1.amazonaws.com",
])
def test_foreign_names_are_refused_with_a_403_naming_the_fix(header):
    refused = DEFAULT.check_host(header, "HTTP/1.1")
    assert refused is not None and refused.status == 403
    name = host_name(header)
    assert refused.message == (f"harness: Host {name!r} is not served here; "
                               f"add it with harness up --allow-host {name}")


def test_a_missing_or_malformed_host_is_400_on_http_1_1_only():
    assert DEFAULT.check_host(None, "HTTP/1.1").status == 400
    assert "no Host header" in DEFAULT.check_host(None, "HTTP/1.1").message
    assert DEFAULT.check_host(None, "HTTP/1.0") is None
    assert DEFAULT.check_host("a b", "HTTP/1.1").status == 400


def test_added_names_and_patterns_are_served():
    guard = RequestGuard.for_listener("127.0.0.1", ["Dev.Example.Test.", "*.lan"])
    assert guard.check_host("dev.example.test:4566", "HTTP/1.1") is None
    assert guard.check_host("DEV.EXAMPLE.TEST", "HTTP/1.1") is None
    assert guard.check_host("bucket.box.lan", "HTTP/1.1") is None
    assert guard.check_host("lan", "HTTP/1.1") is not None  # *.lan is below lan, not lan
    assert guard.check_host("other.example.test", "HTTP/1.1") is not None
    assert RequestGuard.for_listener("127.0.0.1", ["*"]).check_host("any.example", "") is None


def test_the_bound_host_is_served_and_a_wildcard_bind_serves_addresses_only():
    assert RequestGuard.for_listener("box.lan").check_host("box.lan:4566", "HTTP/1.1") is None
    assert RequestGuard.for_listener("::1").check_host("[::1]:1", "HTTP/1.1") is None
    everywhere = RequestGuard.for_listener("0.0.0.0")
    assert everywhere.check_host("192.168.1.5:4566", "HTTP/1.1") is None
    assert everywhere.check_host("[fe80::1]:4566", "HTTP/1.1") is None
    assert everywhere.check_host("rebind.attacker.example", "HTTP/1.1").status == 403


def test_host_allowed_takes_names_as_the_user_wrote_them():
    assert host_allowed("Box.Lan.:80", ["BOX.lan"])
    assert host_allowed("[::1]:80", [])
    assert not host_allowed(None, ["*"])
    assert not host_allowed("box.lan", [])


@pytest.mark.parametrize("origin", [
    "http://localhost:3000", "https://localhost", "http://127.0.0.1:4566", "http://[::1]:8080",
    "HTTP://LOCALHOST:3000",
])
def test_pages_on_this_machine_may_call(origin):
    assert origin_allowed(origin)
    assert DEFAULT.check_browser(origin, "cross-site") is None


@pytest.mark.parametrize("origin", [
    "http://evil.example", "null", "http://localhost.evil.example", "http://127.0.0.1.nip.io",
    "file://", "http://localhost:3000/", "chrome-extension://abc", "",
    "http://abc.execute-api.localhost.localstack.cloud:4566",
])
def test_foreign_pages_are_refused_with_a_403_naming_the_fix(origin):
    assert not origin_allowed(origin)
    refused = DEFAULT.check_browser(origin, None)
    assert refused is not None and refused.status == 403
    assert f"--allow-origin {origin}" in refused.message


def test_added_origins_are_compared_as_browsers_send_them():
    guard = RequestGuard.for_listener("127.0.0.1", (), ["HTTPS://App.Example:443",
                                                        "http://dev.example:8080"])
    assert guard.check_browser("https://app.example", None) is None
    assert guard.check_browser("http://dev.example:8080", None) is None
    assert guard.check_browser("http://dev.example", None) is not None
    assert guard.check_browser("http://app.example", None) is not None
    assert RequestGuard.for_listener("h", (), ["*"]).check_browser("http://evil.example",
                                                                   "cross-site") is None


def test_a_cross_site_request_without_origin_is_refused():
    assert DEFAULT.check_browser(None, "cross-site").status == 403
    assert DEFAULT.check_browser(None, "Cross-Site") is not None
    for site in (None, "same-origin", "same-site", "none"):
        assert DEFAULT.check_browser(None, site) is None


@pytest.mark.parametrize(("text", "normal"), [
    ("Box.Lan.", "box.lan"), ("*.Lan", "*.lan"), ("*", "*"), ("[::1]", "::1"),
    ("10.0.0.1", "10.0.0.1"),
])
def test_host_patterns_normalise(text, normal):
    assert normalise_host_pattern(text) == normal


@pytest.mark.parametrize("text", ["bad name", "*.10.0.0.1", "a/b", "", "*.", "http://x"])
def test_bad_host_patterns_are_one_line_errors(text):
    with pytest.raises(ValueError, match="is not a host name"):
        normalise_host_pattern(text)


@pytest.mark.parametrize(("text", "normal"), [
    ("http://Example.com:80", "http://example.com"), ("https://a.b:443", "https://a.b"),
    ("https://a.b:8443", "https://a.b:8443"), ("null", "null"), ("http://[::1]:3000",
                                                               "http://[::1]:3000"),
])
def test_origins_normalise(text, normal):
    assert normalise_origin(text) == normal


@pytest.mark.parametrize("text", ["example.com", "ftp://a.b", "http://a.b/path", "http://",
                                  "http://a b"])
def test_bad_origins_are_one_line_errors(text):
    with pytest.raises(ValueError, match="is not an origin"):
        normalise_origin(text)


def test_runtime_apis_serve_this_machine_only():
    assert LOOPBACK_ONLY.check_host("127.0.0.1:9001", "HTTP/1.1") is None
    assert LOOPBACK_ONLY.check_host("abc.localhost.localstack.cloud", "HTTP/1.1") is not None
    assert LOOPBACK_ONLY.check_browser("http://evil.example", None) is not None


def test_the_environment_and_the_command_line_add_names_and_origins():
    environ = {"HARNESS_ALLOWED_HOSTS": "A.example, *.lan", "HARNESS_ALLOWED_ORIGINS":
               "http://x.example:80 https://y.example:8443"}
    config = EmulatorConfig.from_env(environ)
    assert config.allowed_hosts == ("a.example", "*.lan")
    assert config.allowed_origins == ("http://x.example", "https://y.example:8443")
    args = build_parser().parse_args(["up", "--allow-host", "Box.Lan", "--allow-host", "*.dev",
                                      "--allow-origin", "HTTP://App.Example"])
    config = config_from_args(args, environ)
    assert config.allowed_hosts == ("a.example", "*.lan", "box.lan", "*.dev")
    assert config.allowed_origins == ("http://x.example", "https://y.example:8443",
                                      "http://app.example")
    assert EmulatorConfig.from_env({}).allowed_hosts == ()


def test_a_bad_name_in_the_environment_is_a_usage_error():
    with pytest.raises(UsageError, match="'bad/name' is not a host name"):
        EmulatorConfig.from_env({"HARNESS_ALLOWED_HOSTS": "ok.example bad/name"})
    with pytest.raises(UsageError, match="'evil.example' is not an origin"):
        EmulatorConfig.from_env({"HARNESS_ALLOWED_ORIGINS": "evil.example"})
