"""An HTTP API's CORS configuration applied to requests and responses (pure functions)."""

from __future__ import annotations

from harness.apigw.cors import CorsConfig, apply, is_preflight, preflight_response
from harness.http import HttpRequest, HttpResponse

STORED = {"allowOrigins": ["http://app.example", "https://*.dev.example"],
          "allowMethods": ["GET", "POST"], "allowHeaders": ["content-type", "x-token"],
          "exposeHeaders": ["x-trace"], "maxAge": 300, "allowCredentials": True}
CONFIG = CorsConfig.from_api(STORED)


def preflight(origin: str | None = "http://app.example") -> HttpRequest:
    headers = [("Access-Control-Request-Method", "POST")]
    if origin is not None:
        headers.append(("Origin", origin))
    return HttpRequest("OPTIONS", "/items", headers=tuple(headers))


def test_stored_configuration_is_read():
    expected = CorsConfig(("http://app.example", "https://*.dev.example"), ("GET", "POST"),
                          ("content-type", "x-token"), ("x-trace",), 300, True)
    assert CorsConfig.from_api(STORED) == expected
    assert CorsConfig.from_api(None) is None
    assert CorsConfig.from_api({}) is None
    assert CorsConfig.from_api({"allowOrigins": ["*"], "maxAge": "soon"}).max_age is None


def test_origins_match_exactly_or_by_wildcard():
    assert CONFIG.allowed_origin("http://app.example") == "http://app.example"
    assert CONFIG.allowed_origin("https://a.dev.example") == "https://a.dev.example"
    assert CONFIG.allowed_origin("http://a.dev.example") is None
    assert CONFIG.allowed_origin("http://app.example.evil") is None
    assert CorsConfig(("*",)).allowed_origin("http://anything") == "*"
    assert CorsConfig(("https://*",)).allowed_origin("https://x.y") == "https://x.y"


def test_preflight_needs_origin_and_requested_method():
    assert is_preflight(preflight())
    assert not is_preflight(preflight(origin=None))
    assert not is_preflight(HttpRequest("OPTIONS", "/", headers=(("Origin", "http://a"),)))
    assert not is_preflight(HttpRequest("GET", "/", headers=preflight().headers))


def test_preflight_of_an_allowed_origin_gets_every_configured_header():
    response = preflight_response(CONFIG, preflight())
    assert response.status == 204
    assert dict(response.headers) == {
        "Access-Control-Allow-Origin": "http://app.example",
        "Access-Control-Allow-Methods": "GET,POST",
        "Access-Control-Allow-Headers": "content-type,x-token",
        "Access-Control-Max-Age": "300",
        "Access-Control-Allow-Credentials": "true",
    }


def test_preflight_of_another_origin_gets_no_cors_headers():
    assert preflight_response(CONFIG, preflight("http://evil.example")) == HttpResponse(204)


def test_configured_headers_replace_the_integrations():
    integration = HttpResponse(200, (("Content-Type", "text/plain"),
                                     ("access-control-allow-origin", "*"),
                                     ("Access-Control-Max-Age", "1")), b"ok")
    request = HttpRequest("GET", "/items", headers=(("Origin", "http://app.example"),))
    response = apply(CONFIG, request, integration)
    assert response.status == 200 and response.body == b"ok"
    assert response.headers == (("Content-Type", "text/plain"),
                                ("Access-Control-Allow-Origin", "http://app.example"),
                                ("Access-Control-Allow-Credentials", "true"),
                                ("Access-Control-Expose-Headers", "x-trace"))


def test_no_origin_or_another_origin_gets_no_cors_headers():
    integration = HttpResponse(200, (("Access-Control-Allow-Origin", "*"),), b"ok")
    for headers in ((), (("Origin", "http://evil.example"),)):
        response = apply(CONFIG, HttpRequest("GET", "/items", headers=headers), integration)
        assert response == HttpResponse(200, (), b"ok")
