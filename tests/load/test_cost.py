"""The cost meter against examples worked by hand from AWS's published us-east-1 prices.

Prices (harness/load/cost.py cites the pages): Lambda $0.20 per 1M requests, $0.0000166667 per
GB-s x86_64, $0.0000133334 arm64, free tier 1M requests + 400,000 GB-s a month; API Gateway
REST $3.50 per 1M (first 333M), $2.80 (next 667M), $2.38 (next 19B), $1.51 beyond; S3
Standard PUT/COPY/POST/LIST $0.005 per 1,000, GET $0.0004 per 1,000; SnapStart (Python)
caching $0.0000015046 per GB-s (3 hours at least per version), restores $0.0001397998 per GB.
"""

from __future__ import annotations

import pytest

from harness.load.cost import (
    FREE_TIER,
    NO_FREE_TIER,
    SECONDS_PER_MONTH,
    SNAPSTART_CACHE_ITEM,
    SNAPSTART_RESTORE_ITEM,
    Usage,
    apigw_rest_cost,
    bill,
    cost_report,
    free_tier_share,
    free_tier_warnings,
    gb_seconds,
    lambda_compute_cost,
    lambda_request_cost,
    monthly_projection,
    s3_request_cost,
    snapstart_cache_gb_seconds,
    snapstart_cost,
)

approx = pytest.approx


def test_gb_seconds_is_billed_seconds_times_memory_in_gb() -> None:
    # 120 ms at 512 MB: 0.120 s x 0.5 GB = 0.06 GB-s
    assert gb_seconds(120, 512) == approx(0.06)
    # 1 ms at 128 MB: 0.001 s x 0.125 GB = 0.000125 GB-s
    assert gb_seconds(1, 128) == approx(0.000125)
    # A cold start billed as AWS bills it since 2025-08: init 950 ms + run 50 ms = 1,000 ms
    # at 1,024 MB: 1.0 s x 1 GB = 1 GB-s
    assert gb_seconds(950 + 50, 1024) == approx(1.0)


def test_aws_lambda_pricing_example_three_million_one_second_calls_at_512_mb() -> None:
    # AWS's own worked example: 512 MB, 3,000,000 calls a month, 1 s each.
    # compute: 3,000,000 x 1 s x 0.5 GB = 1,500,000 GB-s; minus 400,000 free = 1,100,000 GB-s
    #          1,100,000 x $0.0000166667 = $18.33337
    # requests: 3,000,000 - 1,000,000 free = 2,000,000 x $0.20 / 1M = $0.40
    gb_s = 3_000_000 * gb_seconds(1000, 512)
    assert gb_s == approx(1_500_000)
    assert lambda_compute_cost(gb_s, "x86_64", free=400_000) == approx(18.33337)
    assert lambda_request_cost(3_000_000, free=1_000_000) == approx(0.40)
    # The same on arm64: 1,100,000 x $0.0000133334 = $14.66674
    assert lambda_compute_cost(gb_s, "arm64", free=400_000) == approx(14.66674)


def test_a_ten_thousand_request_run_without_free_tier() -> None:
    # 10,000 requests, 120 ms billed each at 512 MB:
    #   GB-s 10,000 x 0.06 = 600 -> x86 600 x $0.0000166667 = $0.01000002
    #   Lambda requests 10,000 x $0.0000002 = $0.002
    #   API Gateway 10,000 x $0.0000035 = $0.035
    #   S3 GET 10,000 x $0.0000004 = $0.004; 50 PUTs x $0.000005 = $0.00025
    #   total $0.05125002
    usage = Usage(lambda_requests=10_000, gb_seconds=600, apigw_requests=10_000, s3_get=10_000,
                  s3_put=50)
    items = {item.name: item.cost_usd for item in bill(usage).items}
    assert items["lambda GB-seconds (x86_64)"] == approx(0.01000002)
    assert items["lambda requests"] == approx(0.002)
    assert items["API Gateway REST requests"] == approx(0.035)
    assert items["S3 GET requests"] == approx(0.004)
    assert items["S3 PUT/LIST requests"] == approx(0.00025)
    assert bill(usage).total_usd == approx(0.05125002)


def test_api_gateway_rest_tiers() -> None:
    # 400M requests: 333M x $3.50/M = $1,165.50, plus 67M x $2.80/M = $187.60 -> $1,353.10
    assert apigw_rest_cost(400_000_000) == approx(1353.10)
    # 1M free: 1,500,000 - 1,000,000 = 500,000 x $3.50/M = $1.75
    assert apigw_rest_cost(1_500_000, free=1_000_000) == approx(1.75)
    # 21 billion: 333M x 3.50 + 667M x 2.80 + 19B x 2.38 + 1B x 1.51
    #   = 1,165.5 + 1,867.6 + 45,220 + 1,510 = $49,763.10
    assert apigw_rest_cost(21_000_000_000) == approx(49_763.10)


def test_s3_requests_put_and_list_share_a_price_and_an_allowance() -> None:
    # 3,000 PUT + 1,000 LIST = 4,000 x $0.005/1,000 = $0.02; 50,000 GET x $0.0004/1,000 = $0.02
    assert s3_request_cost(get=50_000, put=3_000, list_=1_000) == approx(0.04)
    # with the free tier: (4,000 - 2,000) x $0.000005 = $0.01; (50,000 - 20,000) x $0.0000004
    #   = $0.012 -> $0.022
    assert s3_request_cost(get=50_000, put=3_000, list_=1_000, free_get=20_000,
                           free_put_list=2_000) == approx(0.022)


def test_monthly_projection_scales_by_730_hours_over_the_window() -> None:
    # 10 requests/s seen over 60 s -> 600 requests; a month is 2,628,000 s = 43,800 windows
    #   -> 26,280,000 requests
    month = monthly_projection(Usage(lambda_requests=600, apigw_requests=600), 60)
    assert SECONDS_PER_MONTH == 2_628_000
    assert month.lambda_requests == approx(26_280_000)


def test_ten_requests_a_second_for_a_month_at_100_ms_and_512_mb() -> None:
    # 26,280,000 requests, 0.05 GB-s each = 1,314,000 GB-s, one S3 GET each.
    #   Lambda requests (26.28M - 1M) x $0.2/M       = $5.056
    #   Lambda compute (1,314,000 - 400,000) x $0.0000166667 = $15.23336...
    #   API Gateway (26.28M - 1M) x $3.5/M          = $88.48
    #   S3 GET (26,280,000 - 20,000) x $0.0000004   = $10.504
    #   total                                        = $119.27336
    n = 10 * 3600 * 730
    steady = Usage(lambda_requests=n, gb_seconds=n * gb_seconds(100, 512), apigw_requests=n,
                   s3_get=n)
    report = cost_report(steady.scaled(60 / SECONDS_PER_MONTH), 60)
    assert report.monthly_usage.lambda_requests == approx(n)
    assert report.monthly["x86_64"].total_usd == approx(119.27336, rel=1e-6)
    assert report.projected_monthly_usd == approx(119.27336, rel=1e-6)
    # share of the free tier: 26.28 x the requests, 3.285 x the GB-s
    assert report.free_tier_share["lambda_requests"] == approx(26.28)
    assert report.free_tier_share["lambda_gb_seconds"] == approx(3.285)
    assert any("lambda requests" in w for w in report.warnings)


def test_a_light_load_stays_inside_the_free_tier_and_warns_of_nothing() -> None:
    # 0.1 requests/s for a month: 262,800 requests (26.28% of 1M), 100 ms at 128 MB:
    #   262,800 x 0.0125 GB-s = 3,285 GB-s (0.82% of 400,000); S3 GETs 262,800 > 20,000 free
    n = 262_800
    month = Usage(lambda_requests=n, gb_seconds=n * gb_seconds(100, 128), apigw_requests=n)
    shares = free_tier_share(month, FREE_TIER)
    assert shares["lambda_requests"] == approx(0.2628)
    assert shares["lambda_gb_seconds"] == approx(0.0082125)
    assert free_tier_warnings(shares) == []
    assert bill(month, "x86_64", FREE_TIER).total_usd == 0.0


def test_cold_starts_are_counted_once_in_the_month_not_scaled() -> None:
    # steady: 1,000 requests over 100 s; cold: 2 cold starts' init, 2 GB-s.
    # month: 1,000 x 26,280 = 26,280,000 requests; cold GB-s stays 2, not 2 x 26,280.
    report = cost_report(Usage(lambda_requests=1000, gb_seconds=10), 100,
                         cold=Usage(gb_seconds=2), setup=Usage(s3_put=40))
    assert report.monthly_usage.gb_seconds == approx(10 * 26_280 + 2)
    # the window's own bill covers steady + cold + setup: 12 GB-s, 40 PUTs
    run = {item.name: item.quantity for item in report.run_bill.items}
    assert run["lambda GB-seconds (x86_64)"] == approx(12)
    assert run["S3 PUT/LIST requests"] == approx(40)
    assert report.monthly_usage.s3_put == 0


def test_snapstart_caching_and_restores_worked_by_hand() -> None:
    # Prices: caching $0.0000015046 per GB-s, at least 3 hours per published version; restore
    # $0.0001397998 per GB restored (https://aws.amazon.com/lambda/pricing/).
    # A 512 MB version kept 10 minutes is billed 3 hours: 0.5 GB x 10,800 s = 5,400 GB-s
    assert snapstart_cache_gb_seconds(512, 600) == approx(5400)
    # kept 4 hours at 2,048 MB: 2 GB x 14,400 s = 28,800 GB-s
    assert snapstart_cache_gb_seconds(2048, 4 * 3600) == approx(28_800)
    # 5,400 GB-s x $0.0000015046 = $0.00812484; 1,000 restores of 0.5 GB = 500 GB x
    # $0.0001397998 = $0.0698999; together $0.07802474
    assert snapstart_cost(cache_gb_s=5400) == approx(0.00812484)
    assert snapstart_cost(restore_gb=500) == approx(0.0698999)
    usage = Usage(snapstart_cache_gb_seconds=5400, snapstart_restore_gb=500)
    # no free tier covers SnapStart: the same with and without it
    for free_tier in (FREE_TIER, NO_FREE_TIER):
        items = {item.name: item for item in bill(usage, "x86_64", free_tier).items}
        assert items[SNAPSTART_CACHE_ITEM].cost_usd == approx(0.00812484)
        assert items[SNAPSTART_RESTORE_ITEM].cost_usd == approx(0.0698999)
        assert items[SNAPSTART_RESTORE_ITEM].free == 0
        assert bill(usage, "x86_64", free_tier).total_usd == approx(0.07802474)


def test_a_bill_without_snapstart_lists_no_snapstart_line() -> None:
    names = {item.name for item in bill(Usage(lambda_requests=10)).items}
    assert SNAPSTART_CACHE_ITEM not in names and SNAPSTART_RESTORE_ITEM not in names


def test_snapstart_cache_scales_to_the_month_and_restores_do_not() -> None:
    # 60 s window: one 512 MB version cached (30 GB-s), 4 restores (2 GB) as cold usage.
    # month: 30 x 43,800 windows = 1,314,000 GB-s (0.5 GB x 730 h); restores stay 2 GB.
    report = cost_report(Usage(snapstart_cache_gb_seconds=30), 60,
                         cold=Usage(snapstart_restore_gb=2))
    assert report.monthly_usage.snapstart_cache_gb_seconds == approx(0.5 * SECONDS_PER_MONTH)
    assert report.monthly_usage.snapstart_restore_gb == approx(2)
    # $1.977 for the month's cache (1,314,000 x $0.0000015046) + $0.0002795996 of restores
    assert report.projected_monthly_usd == approx(1.9770444 + 0.0002795996)
