"""The HTML report: four plots (PNG files next to it, and embedded) and the figures as tables.

Plots: latency over time (p50/p95/p99 per second), the latency histogram, throughput (answers
per second, errors stacked), and execution environments alive over time with cold starts; a
soak adds the harness's memory, open files and threads against requests answered.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

PLOTS = ("latency_over_time", "latency_histogram", "throughput", "environments")


def _figure() -> tuple[Any, Any]:
    try:
        import matplotlib
    except ImportError:
        from harness.errors import UsageError

        raise UsageError("plots need matplotlib (install with: pip install 'harness[load]')") \
            from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def latency_over_time(report: dict[str, Any]) -> bytes:
    fig, ax = _figure()
    rows = [r for r in report["timeline"] if r["requests"]]
    t = [r["t"] for r in rows]
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        ax.plot(t, [r[key] for r in rows], label=label, linewidth=1.2)
    ax.set(title="Latency per second (client side)", xlabel="seconds", ylabel="ms")
    if rows:
        ax.set_yscale("log")
        ax.legend(loc="upper right")
    return _png(fig)


def latency_histogram(report: dict[str, Any]) -> bytes:
    import numpy as np

    fig, ax = _figure()
    rows = report["client"]["latency_histogram"]
    if rows:
        values = np.array([r[0] for r in rows])
        counts = np.array([r[1] for r in rows])
        low, high = max(values.min(), 1e-3), max(values.max(), values.min() * 1.01)
        edges = np.geomspace(low * 0.99, high * 1.01, 61)  # 60 log-spaced bins
        ax.hist(values, bins=edges, weights=counts, color="tab:blue")
        ax.set_xscale("log")
        lat = report["client"]["latency_ms"]
        for key, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            if lat[key] is not None:
                ax.axvline(lat[key], color="black", linestyle=style, linewidth=1,
                           label=f"{key} {lat[key]:.2f} ms")
        ax.legend(loc="upper right")
    ax.set(title="Latency histogram (client side)", xlabel="ms", ylabel="requests")
    return _png(fig)


_KIND_COLORS = (("2xx", "tab:blue"), ("3xx", "tab:cyan"), ("4xx", "tab:orange"),
                ("5xx", "tab:red"), ("429", "tab:purple"), ("timeout", "black"),
                ("connection", "tab:gray"), ("other", "tab:brown"))


def throughput(report: dict[str, Any]) -> bytes:
    fig, ax = _figure()
    rows = report["timeline"]
    t = [r["t"] for r in rows]
    bottom = [0] * len(rows)
    for kind, color in _KIND_COLORS:
        heights = [r["kinds"].get(kind, 0) for r in rows]
        if any(heights):
            ax.bar(t, heights, width=1.0, bottom=bottom, label=kind, color=color)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set(title="Throughput: answers per second, by kind", xlabel="seconds",
           ylabel="requests/s")
    if any(bottom):
        ax.legend(loc="lower right", framealpha=0.9)
    return _png(fig)


def environments(report: dict[str, Any]) -> bytes:
    fig, ax = _figure()
    harness = report["harness"]
    if harness.get("available"):
        points = harness["environments_over_time"]
        ax.step([p[0] for p in points], [p[1] for p in points], where="post",
                label="environments alive")
        colds = harness["cold_start_list"]
        if colds:
            ax.plot([c["t"] for c in colds], [0] * len(colds), "v", color="tab:orange",
                    label="cold starts")
        throttles = harness["throttles_over_time"]
        if throttles:
            ax2 = ax.twinx()
            ax2.bar([p[0] for p in throttles], [p[1] for p in throttles], width=1.0,
                    alpha=0.3, color="tab:red", label="throttles/s")
            ax2.set_ylabel("throttles per second")
            ax.set_zorder(ax2.get_zorder() + 1)  # the environments line over the bars
            ax.patch.set_visible(False)
        ax.legend(loc="upper left")
    else:
        ax.text(0.5, 0.5, "not measured: external endpoint", ha="center", va="center",
                transform=ax.transAxes)
    ax.set(title="Execution environments over time", xlabel="seconds", ylabel="environments")
    return _png(fig)


def resources(report: dict[str, Any]) -> bytes:
    fig, ax = _figure()
    samples = report["soak"]["samples"]
    answered = [s["answered"] for s in samples]
    ax.plot(answered, [s["rss_mb"] for s in samples], label="harness memory (MB)",
            color="tab:blue")
    ax.set(title="Harness resources over the soak", xlabel="requests answered",
           ylabel="resident memory (MB)")
    ax2 = ax.twinx()
    ax2.plot(answered, [s["fds"] for s in samples], label="open files", color="tab:green")
    ax2.plot(answered, [s["threads"] for s in samples], label="threads", color="tab:purple")
    ax2.set_ylabel("open files, threads")
    ax2.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right")
    return _png(fig)


_MAKERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "latency_over_time": latency_over_time, "latency_histogram": latency_histogram,
    "throughput": throughput, "environments": environments, "resources": resources,
}


def write_plots(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Every plot as a PNG file in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    names = [*PLOTS, "resources"] if report.get("soak") else list(PLOTS)
    for name in names:
        path = out_dir / f"{name}.png"
        path.write_bytes(_MAKERS[name](report))
        paths[name] = path
    return paths


def write_html(report: dict[str, Any], out_dir: Path, summary: str) -> Path:
    """report.html with the plots embedded (and written next to it as PNGs)."""
    pngs = write_plots(report, out_dir)
    images = "\n".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode(path.read_bytes()).decode()}"><figcaption>{name}.png</figcaption>'
        f"</figure>" for name, path in pngs.items())
    verdict = "passed" if report["slo"]["passed"] else "FAILED"
    page = _PAGE.format(
        title=html.escape(f"Load report: {report['scenario']['name']}"),
        verdict=verdict, verdict_class="ok" if report["slo"]["passed"] else "bad",
        summary=html.escape(summary), images=images)
    path = out_dir / "report.html"
    path.write_text(page)
    return path


# The script marks the body once every plot has decoded; the headless-browser test reads it.
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 90%; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
.ok {{ color: #176317; }} .bad {{ color: #a31515; }}
</style></head>
<body data-plots="pending">
<h1>{title}</h1>
<p>SLO gates: <strong class="{verdict_class}">{verdict}</strong>. Every figure is in
report.json next to this file.</p>
<pre>{summary}</pre>
{images}
<script>
window.addEventListener("load", function () {{
  var imgs = Array.prototype.slice.call(document.images);
  var drawn = imgs.filter(function (i) {{ return i.complete && i.naturalWidth > 0; }});
  document.body.setAttribute("data-plots", drawn.length + "/" + imgs.length);
}});
</script>
</body></html>
"""
