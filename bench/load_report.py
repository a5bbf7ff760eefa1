"""The figures of a load run (bench/load.py) as a printed table, a JSON
file and an HTML page of charts drawn with the Chart.js the hub already
ships for its KPI dashboard (embedded, so the page is one file)."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path

from load_metrics import Recorder, percentiles
from load_resources import ResourceSampler

ROOT = Path(__file__).resolve().parent.parent
CHARTJS = [ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js",
           ROOT / "kpi" / "static" / "vendor" / "chartjs" / "chart.umd.min.js"]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _latency_rows(latency: dict[str, dict]) -> list[str]:
    lines = [f"  {'':<44}{'n':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"]
    for name, p in latency.items():
        lines.append(f"  {name:<44}{p['n']:>8}{_ms(p['p50']):>9}{_ms(p['p95']):>9}{_ms(p['p99']):>9}{_ms(p['max']):>9}")
    return lines


def _process_rows(processes: dict[str, dict]) -> list[str]:
    lines = [f"  {'process':<14}{'CPU mean %':>12}{'CPU max %':>12}{'RSS mean MiB':>15}{'RSS max MiB':>14}"]
    for role, p in processes.items():
        rss_mean = "-" if p["rss_mean_mib"] is None else f"{p['rss_mean_mib']:.0f}"
        rss_max = "-" if p["rss_max_mib"] is None else f"{p['rss_max_mib']:.0f}"
        lines.append(f"  {role:<14}{p['cpu_mean']:>12.1f}{p['cpu_max']:>12.1f}{rss_mean:>15}{rss_max:>14}")
    return lines


def table(result: dict) -> str:
    run, c = result["run"], result["correctness"]
    lines = [
        "",
        f"Load run: {run['webs']} web, {run['workers']} workers, beat; {run['patients']} widget patients, "
        f"{run['agents']} agents ({run['repliers']} replying), webhooks {run['webhook_rate']:g}/s; "
        f"{run['duration']:g} s measured after {run['warmup']:g} s warm-up; Twilio: {run['twilio']}; "
        f"assignment: {run['assignment']}{'; PROFILED' if run['profiled'] else ''}"
        f"{'; settings ' + ' '.join(run['hub_settings']) if run['hub_settings'] else ''}",
        "",
        "throughput (per second, measured window)",
    ]
    lines += [f"  {name:<44}{rate:>10.1f}" for name, rate in result["throughput"].items()]
    lines += ["", "latency (ms)"] + _latency_rows(result["latency"])
    lines += ["", "correctness"]
    rows = [
        (f"inbound lost (not on a following agent socket within {run['deadline']:g} s)", c["lost_inbound"]),
        ("  of which never arrived at all (run and drain)", c["never_arrived"]),
        ("deliveries lost (a following socket never got it)", c["lost_deliveries"]),
        ("deliveries late (after the deadline)", c["late_deliveries"]),
        ("sequence gaps on department streams", c["sequence_gaps"]),
        ("duplicated sequences (one socket, one stream)", c["duplicate_sequences"]),
        ("duplicated inbound events (same message twice on a socket)", c["duplicate_inbound_events"]),
        ("resyncs / console reconnects", f"{c['resyncs']} / {c['reconnects']}"),
        ("inbound refused by the hub / never answered", f"{c['refused_inbound']} / {c['unanswered_inbound']}"),
        ("replies never past pending / never on the widget",
         f"{result['replies']['never_handed_to_provider']} / {result['replies']['widget_replies_never_shown']}"),
    ]
    lines += [f"  {label:<64}{value}" for label, value in rows]
    if result["errors"]:
        lines += ["", "errors (whole run)"] + [f"  {k:<60}{v:>8}" for k, v in result["errors"].items()]
    lines += ["", "processes (percent of one core; the machine row is percent of all cores)"]
    lines += _process_rows(result["processes"])
    if result.get("database_sessions"):
        sessions = result["database_sessions"]
        lines += ["", "PostgreSQL sessions of the hub's database, mean at any second (active, by what they wait on)"]
        lines += [f"  {state:<44}{n:>10.2f}" for state, n in sessions["states"].items()]
        if "deadlocks" in sessions:
            lines += [f"  deadlocks {sessions['deadlocks']}; transactions committed {sessions['commits_per_s']:.0f}/s, "
                      f"rolled back {sessions['rollbacks_per_s']:.1f}/s; "
                      f"sessions opened {sessions.get('sessions_opened_per_s', 0):.1f}/s"]
        lines += ["", f"lock waits seen most often (of {sessions['samples']} one-second samples)"]
        lines += [f"  {n:>5}  {wait}" for wait, n in sessions["lock_waits"].items()]
    if result.get("celery_queue"):
        q = result["celery_queue"]
        lines += ["", f"Celery queue: waiting for a worker mean {q['waiting_mean']:.1f}, max {q['waiting_max']}; "
                      f"held by workers (running or before their ETA) mean {q['held_mean']:.1f}, max {q['held_max']}"]
        for kind, tasks in q.get("tasks_at_end", {}).items():
            lines.append(f"  {kind} at the end of the window: " + ", ".join(f"{k} {v}" for k, v in tasks.items()))
    if result.get("twilio_server"):
        t = result["twilio_server"]
        lines += ["", f"Twilio contract server: {t['requests']} requests, {t['messages']} messages, "
                      f"{t['violations']} violations"]
    stalls = result.get("generator_stalls")
    if stalls and stalls["stalls"]:
        lines += ["", f"the generator's event loop stalled {stalls['stalls']} times for over "
                      f"{stalls['threshold_s']:g} s (whole run), in:"]
        lines += [f"  {n:>5}  {stack}" for stack, n in stalls["stacks"].items()]
    target = result["target"]
    lines += ["", f"target: inbound-to-agent p99 < {target['p99_ms']:g} ms, 0 lost, 0 duplicated: "
                  f"{'MET' if target['met'] else 'NOT MET'}"]
    lines += [f"  {reason}" for reason in target["reasons"]]
    return "\n".join(lines)


# --- per-second series, for the charts --------------------------------------------

def _per_second(rows: list[tuple[int, float]]) -> dict[int, dict]:
    by_second: dict[int, list[float]] = defaultdict(list)
    for second, value in rows:
        by_second[second].append(value)
    return {s: percentiles(v) for s, v in by_second.items()}


def series(rec: Recorder, sampler: ResourceSampler) -> dict:
    seconds = sorted({s for counts in rec.events.values() for s in counts})
    span = list(range(seconds[0], seconds[-1] + 1)) if seconds else []
    deliveries = [(rec.second(item.sent), (at - item.sent) * 1000)
                  for item in rec.inbound.values() for at in item.arrivals.values()]
    webhooks = [(rec.second(at), ms) for name, rows in rec.timings.items() if name.startswith("webhook")
                for at, ms in rows]
    delivery_stats, webhook_stats = _per_second(deliveries), _per_second(webhooks)
    pick = lambda stats, key: [stats.get(s, {}).get(key) for s in span]  # noqa: E731
    resources: dict[str, dict[str, list]] = defaultdict(lambda: {"t": [], "cpu": [], "rss": []})
    for row in sampler.rows:
        r = resources[row["role"]]
        r["t"].append(rec.second(row["t"]))
        r["cpu"].append(round(row["cpu"], 1))
        r["rss"].append(round(row["rss"] / 2**20, 1))
    return {
        "seconds": span,
        "window": [rec.second(rec.window[0]), rec.second(rec.window[1])],
        "throughput": {name: [counts.get(s, 0) for s in span] for name, counts in sorted(rec.events.items())
                       if name.startswith(("in:", "out:"))},
        "inbound_to_agent": {k: pick(delivery_stats, k) for k in ("p50", "p95", "p99")},
        "webhook_answer": {k: pick(webhook_stats, k) for k in ("p50", "p95", "p99")},
        "resources": resources,
    }


def write_json(result: dict, data: dict, path: Path) -> None:
    path.write_text(json.dumps({**result, "series": data}, indent=1, default=str))


# --- HTML -------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hub load run</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}} pre{{background:#f6f6f6;padding:1em;
overflow:auto}} canvas{{margin:1em 0 2em}}</style>
<script>{chartjs}</script></head><body>
<h1>Hub load run</h1>
<p>The charts show the whole run, warm-up and drain included; the figures below are from the measured
window only, second {start} to {end} of the run.</p>
<h2>Throughput (per second)</h2><canvas id="throughput"></canvas>
<h2>Inbound to agent socket (ms, by second sent)</h2><canvas id="latency"></canvas>
<h2>Webhook answer time (ms)</h2><canvas id="webhooks"></canvas>
<h2>CPU (percent of one core)</h2><canvas id="cpu"></canvas>
<h2>Resident memory (MiB)</h2><canvas id="rss"></canvas>
<h2>Figures</h2><pre>{table}</pre>
<script>
const data = {data};
const line = (label, values, xs) => ({{label, data: (xs || data.seconds).map((x, i) => ({{x, y: values[i]}})),
  pointRadius: 0, borderWidth: 1.5, spanGaps: true}});
const chart = (id, datasets, yTitle, log) => new Chart(document.getElementById(id), {{type: "line",
  data: {{datasets}}, options: {{animation: false, parsing: false, scales: {{
    x: {{type: "linear", title: {{display: true, text: "second of the run"}}}},
    y: {{type: log ? "logarithmic" : "linear", title: {{display: true, text: yTitle}}}}}}}}}});
chart("throughput", Object.entries(data.throughput).map(([k, v]) => line(k, v)), "events per second");
chart("latency", ["p50", "p95", "p99"].map(k => line(k, data.inbound_to_agent[k])), "ms", true);
chart("webhooks", ["p50", "p95", "p99"].map(k => line(k, data.webhook_answer[k])), "ms", true);
const roles = Object.entries(data.resources);
chart("cpu", roles.map(([role, r]) => line(role, r.cpu, r.t)), "% of one core");
chart("rss", roles.filter(([role]) => role !== "postgres").map(([role, r]) => line(role, r.rss, r.t)), "MiB");
</script></body></html>
"""


def chartjs_source() -> str:
    for path in CHARTJS:
        if path.exists():
            return path.read_text()
    raise FileNotFoundError("Chart.js is not installed: run `npm ci` (make run does)")


def write_html(result: dict, data: dict, text: str, path: Path) -> None:
    page = PAGE.format(chartjs=chartjs_source().replace("</script", "<\\/script"),
                       start=data["window"][0], end=data["window"][1],
                       data=json.dumps(data).replace("</", "<\\/"), table=html.escape(text))
    path.write_text(page)
