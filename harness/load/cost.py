"""The cost and free-tier meter: pure functions from usage figures to dollars (us-east-1 prices).

Sources (read 2026; prices change, so every figure is a named constant in `PRICES`):
  - Lambda: https://aws.amazon.com/lambda/pricing/ - $0.20 per 1M requests; $0.0000166667 per
    GB-second (x86_64), $0.0000133334 (arm64); free tier 1M requests and 400,000 GB-seconds per
    month (both architectures together). Duration is billed per 1 ms; since 2025-08-01 the INIT
    phase is billed too: https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-
    init-phase/ (the harness's Billed Duration already covers init on a cold start).
  - API Gateway REST APIs: https://aws.amazon.com/api-gateway/pricing/ and the tier table in
    https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-
    integration/cost-optimization.html - $3.50 per million for the first 333 million requests a
    month, $2.80 for the next 667 million, $2.38 for the next 19 billion, $1.51 beyond; free tier
    1M calls a month for 12 months (accounts created before 2025-07-15; newer ones get credits).
  - S3 Standard requests: https://aws.amazon.com/s3/pricing/ - PUT, COPY, POST, LIST $0.005 per
    1,000; GET, SELECT and others $0.0004 per 1,000; free tier 2,000 PUT/COPY/POST/LIST and 20,000
    GET requests a month for 12 months (same caveat as API Gateway).
  - Lambda SnapStart for Python (https://aws.amazon.com/lambda/pricing/ ,
    https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html#snapstart-pricing): caching
    $0.0000015046 per GB-second for as long as a published version is active, at least 3 hours
    per version; restore $0.0001397998 per GB each time an environment restores; GB is the
    function's memory size. No free tier. The after-restore hooks (Billed Restore Duration) are
    billed as ordinary duration, in the GB-seconds line.
A month is 730 hours, the convention of AWS's pricing calculator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

SECONDS_PER_MONTH = 730 * 3600
SNAPSTART_MIN_CACHE_S = 3 * 3600
"""Caching is billed for at least 3 hours per published version."""
SNAPSTART_CACHE_ITEM = "lambda SnapStart cache GB-seconds"
SNAPSTART_RESTORE_ITEM = "lambda SnapStart restores (GB restored)"


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD, us-east-1."""

    lambda_per_request: float = 0.20 / 1_000_000
    lambda_per_gb_second_x86_64: float = 0.0000166667
    lambda_per_gb_second_arm64: float = 0.0000133334
    apigw_rest_tiers: tuple[tuple[float, float], ...] = (
        (333_000_000, 3.50 / 1_000_000),
        (667_000_000, 2.80 / 1_000_000),
        (19_000_000_000, 2.38 / 1_000_000),
        (float("inf"), 1.51 / 1_000_000),
    )
    """(requests in the tier, price per request), in order."""
    s3_put_copy_post_list_per_request: float = 0.005 / 1000
    s3_get_per_request: float = 0.0004 / 1000
    snapstart_cache_per_gb_second: float = 0.0000015046
    snapstart_restore_per_gb: float = 0.0001397998


@dataclass(frozen=True)
class FreeTier:
    """Monthly free allowances."""

    lambda_requests: float = 1_000_000
    lambda_gb_seconds: float = 400_000
    apigw_rest_requests: float = 1_000_000
    s3_put_copy_post_list: float = 2_000
    s3_get: float = 20_000


PRICES = Prices()
FREE_TIER = FreeTier()
NO_FREE_TIER = FreeTier(0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Usage:
    """What a period used; counts may be fractional after scaling to a month."""

    lambda_requests: float = 0
    gb_seconds: float = 0.0
    apigw_requests: float = 0
    s3_get: float = 0
    s3_put: float = 0
    s3_list: float = 0
    snapstart_cache_gb_seconds: float = 0.0
    """SnapStart: GB of memory x seconds each published version's snapshot was kept."""
    snapstart_restore_gb: float = 0.0
    """SnapStart: GB of memory restored, summed over every restore."""

    def scaled(self, factor: float) -> Usage:
        return Usage(**{name: value * factor for name, value in asdict(self).items()})

    def __add__(self, other: Usage) -> Usage:
        theirs = asdict(other)
        return Usage(**{name: value + theirs[name] for name, value in asdict(self).items()})

    def __sub__(self, other: Usage) -> Usage:
        theirs = asdict(other)
        return Usage(**{name: value - theirs[name] for name, value in asdict(self).items()})


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: float
    free: float
    """How much of ``quantity`` the free tier covered."""
    cost_usd: float


@dataclass(frozen=True)
class Bill:
    architecture: str
    items: tuple[LineItem, ...]

    @property
    def total_usd(self) -> float:
        return sum(item.cost_usd for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture, "total_usd": self.total_usd,
                "items": [asdict(item) for item in self.items]}


# -- unit conversions ---------------------------------------------------------------------------
def gb_seconds(billed_duration_ms: float, memory_mb: int) -> float:
    """GB-seconds of one invocation: billed duration (ms) x memory (MB) / 1024 / 1000."""
    return billed_duration_ms / 1000.0 * memory_mb / 1024.0


def snapstart_cache_gb_seconds(memory_mb: int, cached_s: float,
                               minimum_s: float = SNAPSTART_MIN_CACHE_S) -> float:
    """GB-seconds of one version's cached snapshot: memory (GB) x seconds kept, at least
    ``minimum_s`` (3 hours per version; pass 0 for a slice of a longer period)."""
    return memory_mb / 1024.0 * max(cached_s, minimum_s)


def tiered_cost(quantity: float, tiers: tuple[tuple[float, float], ...]) -> float:
    """Price ``quantity`` units through volume tiers of (size, unit price)."""
    cost, left = 0.0, quantity
    for size, unit_price in tiers:
        take = min(left, size)
        cost += take * unit_price
        left -= take
        if left <= 0:
            break
    return cost


# -- one service each -----------------------------------------------------------------------------
def lambda_request_cost(requests: float, free: float = 0, prices: Prices = PRICES) -> float:
    return max(0.0, requests - free) * prices.lambda_per_request


def lambda_compute_cost(gb_s: float, architecture: str = "x86_64", free: float = 0,
                        prices: Prices = PRICES) -> float:
    rate = {"x86_64": prices.lambda_per_gb_second_x86_64,
            "arm64": prices.lambda_per_gb_second_arm64}[architecture]
    return max(0.0, gb_s - free) * rate


def apigw_rest_cost(requests: float, free: float = 0, prices: Prices = PRICES) -> float:
    return tiered_cost(max(0.0, requests - free), prices.apigw_rest_tiers)


def s3_request_cost(get: float = 0, put: float = 0, list_: float = 0, free_get: float = 0,
                    free_put_list: float = 0, prices: Prices = PRICES) -> float:
    """PUT and LIST share one price and one free allowance; GET has its own."""
    put_list = max(0.0, put + list_ - free_put_list)
    return (put_list * prices.s3_put_copy_post_list_per_request
            + max(0.0, get - free_get) * prices.s3_get_per_request)


def snapstart_cost(cache_gb_s: float = 0, restore_gb: float = 0,
                   prices: Prices = PRICES) -> float:
    """SnapStart's caching and restores (no free tier covers either)."""
    return (cache_gb_s * prices.snapstart_cache_per_gb_second
            + restore_gb * prices.snapstart_restore_per_gb)


# -- the bill --------------------------------------------------------------------------------------
def bill(usage: Usage, architecture: str = "x86_64", free_tier: FreeTier = NO_FREE_TIER,
         prices: Prices = PRICES) -> Bill:
    """Line items for ``usage``; pass ``FREE_TIER`` for a month the free tier applies to."""
    def covered(quantity: float, allowance: float) -> float:
        return min(quantity, allowance)

    put_list = usage.s3_put + usage.s3_list
    items = (
        LineItem("lambda requests", usage.lambda_requests,
                 covered(usage.lambda_requests, free_tier.lambda_requests),
                 lambda_request_cost(usage.lambda_requests, free_tier.lambda_requests, prices)),
        LineItem(f"lambda GB-seconds ({architecture})", usage.gb_seconds,
                 covered(usage.gb_seconds, free_tier.lambda_gb_seconds),
                 lambda_compute_cost(usage.gb_seconds, architecture,
                                     free_tier.lambda_gb_seconds, prices)),
        LineItem("API Gateway REST requests", usage.apigw_requests,
                 covered(usage.apigw_requests, free_tier.apigw_rest_requests),
                 apigw_rest_cost(usage.apigw_requests, free_tier.apigw_rest_requests, prices)),
        LineItem("S3 GET requests", usage.s3_get, covered(usage.s3_get, free_tier.s3_get),
                 s3_request_cost(get=usage.s3_get, free_get=free_tier.s3_get, prices=prices)),
        LineItem("S3 PUT/LIST requests", put_list,
                 covered(put_list, free_tier.s3_put_copy_post_list),
                 s3_request_cost(put=usage.s3_put, list_=usage.s3_list,
                                 free_put_list=free_tier.s3_put_copy_post_list, prices=prices)),
    )
    return Bill(architecture, items + snapstart_items(usage, prices))


def snapstart_items(usage: Usage, prices: Prices = PRICES) -> tuple[LineItem, ...]:
    """SnapStart's two lines, on a bill that used SnapStart (AWS lists no line it did not use)."""
    if not (usage.snapstart_cache_gb_seconds or usage.snapstart_restore_gb):
        return ()
    return (
        LineItem(SNAPSTART_CACHE_ITEM, usage.snapstart_cache_gb_seconds, 0.0,
                 snapstart_cost(cache_gb_s=usage.snapstart_cache_gb_seconds, prices=prices)),
        LineItem(SNAPSTART_RESTORE_ITEM, usage.snapstart_restore_gb, 0.0,
                 snapstart_cost(restore_gb=usage.snapstart_restore_gb, prices=prices)),
    )


def free_tier_share(usage: Usage, free_tier: FreeTier = FREE_TIER) -> dict[str, float]:
    """How much of each monthly allowance ``usage`` takes (1.0 = all of it)."""
    def share(used: float, allowance: float) -> float:
        return used / allowance if allowance else float("inf")

    return {
        "lambda_requests": share(usage.lambda_requests, free_tier.lambda_requests),
        "lambda_gb_seconds": share(usage.gb_seconds, free_tier.lambda_gb_seconds),
        "apigw_rest_requests": share(usage.apigw_requests, free_tier.apigw_rest_requests),
        "s3_get": share(usage.s3_get, free_tier.s3_get),
        "s3_put_list": share(usage.s3_put + usage.s3_list, free_tier.s3_put_copy_post_list),
    }


def monthly_projection(usage: Usage, window_s: float) -> Usage:
    """``usage`` seen over ``window_s`` seconds, sustained for a whole month (730 hours)."""
    if window_s <= 0:
        raise ValueError("the window must be longer than zero seconds")
    return usage.scaled(SECONDS_PER_MONTH / window_s)


def free_tier_warnings(shares: dict[str, float]) -> list[str]:
    """One line per allowance the projection passes."""
    return [f"projected {name.replace('_', ' ')} use is {share:.0%} of the monthly free tier"
            for name, share in shares.items() if share > 1.0]


@dataclass(frozen=True)
class CostReport:
    """The meter's whole answer for one run or one user-given rate."""

    window_s: float
    usage: Usage
    """``steady + cold``: what the window used, setup aside."""
    steady: Usage
    cold: Usage
    run_bill: Bill
    """What the replayed window itself costs, without a free tier."""
    monthly_usage: Usage
    monthly: dict[str, Bill]
    """Per architecture, with the free tier applied."""
    monthly_no_free_tier: dict[str, Bill]
    free_tier_share: dict[str, float]
    warnings: tuple[str, ...]
    architecture: str

    @property
    def projected_monthly_usd(self) -> float:
        return self.monthly[self.architecture].total_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "architecture": self.architecture,
            "usage": asdict(self.usage),
            "steady_usage": asdict(self.steady),
            "cold_usage": asdict(self.cold),
            "run_bill": self.run_bill.to_dict(),
            "monthly_usage": asdict(self.monthly_usage),
            "monthly": {arch: b.to_dict() for arch, b in self.monthly.items()},
            "monthly_no_free_tier": {arch: b.to_dict()
                                     for arch, b in self.monthly_no_free_tier.items()},
            "projected_monthly_usd": self.projected_monthly_usd,
            "free_tier_share": self.free_tier_share,
            "warnings": list(self.warnings),
            "prices": {"source": "us-east-1 list prices, see harness/load/cost.py",
                       **{k: v for k, v in asdict(PRICES).items() if k != "apigw_rest_tiers"}},
        }


def cost_report(steady: Usage, window_s: float, architecture: str = "x86_64",
                cold: Usage | None = None, setup: Usage | None = None) -> CostReport:
    """Bill the window, project it to a month, and compare the month with the free tier.

    The window's bill covers ``steady + cold + setup``. The month multiplies ``steady`` (what
    every request costs once warm, and the SnapStart snapshots kept meanwhile) by month/window
    and adds ``cold`` (inits, SnapStart restores) once: a steady rate keeps its environments
    warm, so its cold starts do not repeat with every window. ``setup`` (the run's uploads) is
    not projected.
    """
    cold = cold or Usage()
    setup = setup or Usage()
    monthly = monthly_projection(steady, window_s) + cold
    shares = free_tier_share(monthly)
    return CostReport(
        window_s=window_s, usage=steady + cold, steady=steady, cold=cold,
        run_bill=bill(steady + cold + setup, architecture),
        monthly_usage=monthly,
        monthly={arch: bill(monthly, arch, FREE_TIER) for arch in ("x86_64", "arm64")},
        monthly_no_free_tier={arch: bill(monthly, arch) for arch in ("x86_64", "arm64")},
        free_tier_share=shares, warnings=tuple(free_tier_warnings(shares)),
        architecture=architecture)


def usage_from_dict(data: dict[str, Any]) -> Usage:
    known = {name: float(data.get(name, 0) or 0) for name in asdict(Usage())}
    return replace(Usage(), **known)
