"""Reads criterion's estimates and prints the overhead table with ratios (Markdown)."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def mean_ns(group: str, case: str):
    f = root / group / case / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["mean"]["point_estimate"]


cases = [
    ("plain", "plain function (floor)"),
    ("traced_off", "#[traced_tool], tracing off"),
    ("async_plain", "async fn without tracing (async floor)"),
    ("async_traced_off", "async #[traced_tool], tracing off"),
    ("traced_unsampled", "#[traced_tool], on, not sampled"),
    ("sdk_always_off", "hand-written SDK span, AlwaysOff"),
    ("traced_sampled", "#[traced_tool], on, sampled"),
    ("async_traced_sampled", "async #[traced_tool], sampled"),
    ("sdk_sampled", "hand-written SDK span, sampled"),
    ("async_sdk_sampled", "hand-written SDK span around a future"),
    ("tracing_bridge", "tracing::instrument + tracing-opentelemetry"),
    ("fastrace_sampled", "fastrace root span, same properties (reference)"),
]
t = {c: mean_ns("span", c) for c, _ in cases}
print("| case | mean | vs plain |")
print("|---|---:|---:|")
for c, label in cases:
    v = t[c]
    if v is None:
        continue
    ratio = f"{v / t['plain']:.1f}x" if t["plain"] else ""
    print(f"| {label} | {v:,.1f} ns | {ratio} |")
ie = mean_ns("propagation", "inject_extract")
if ie is not None:
    print(f"| W3C extract + inject (HeaderMap) | {ie:,.1f} ns | |")


def ratio(a, b):
    if t.get(a) is None or t.get(b) is None:
        return "n/a"
    return f"{t[a] / t[b]:.2f}"


print()
print("Targets (ratios from this run):")
off = (t["traced_off"] or 0) - (t["plain"] or 0)
print(f"- off: traced_off - plain = {off:.2f} ns (target: within 2 ns)")
aoff = (t.get("async_traced_off") or 0) - (t.get("async_plain") or 0)
print(f"- async off: async_traced_off - async_plain = {aoff:.2f} ns")
print(f"- sampled vs hand-written SDK span: {ratio('traced_sampled', 'sdk_sampled')} (target <= 1.0)")
print(f"- sampled vs tracing bridge: {ratio('traced_sampled', 'tracing_bridge')} (target <= 0.4)")
print(f"- not sampled vs SDK AlwaysOff: {ratio('traced_unsampled', 'sdk_always_off')} (target <= 1.0)")
