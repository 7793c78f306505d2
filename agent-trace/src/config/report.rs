//! What `init` says about itself: one line with the outcome (on or off and why, where spans
//! go, how they are sampled and propagated, what is captured and redacted), and a warning
//! for each `OTEL_*` / `AGENT_TRACE_*` variable that agent-trace does not read, naming the
//! closest one it does ("did you mean OTEL_TRACES_EXPORTER?"). Variables that other
//! OpenTelemetry components read (the specification's, and the language SDKs' own prefixes)
//! are left alone.

use super::env::{self, ALL};
use super::types::{Config, Exporter, Propagator, Sampler};

/// Variables of the OpenTelemetry specification (or of other components) that agent-trace
/// does not read, and must not warn about.
const OTHERS: &[&str] = &[
    "OTEL_LOG_LEVEL",
    "OTEL_RESOURCE_DETECTORS",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_CONFIG_FILE",
    "OTEL_EXPERIMENTAL_CONFIG_FILE",
    "OTEL_ENTITIES",
    "OTEL_METRICS_EXEMPLAR_FILTER",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
];

/// Prefixes of variables other components read: per-signal OTLP settings for logs and
/// metrics, the batch log processor, other exporters, and the language SDKs' and agents'
/// own variables.
const OTHER_PREFIXES: &[&str] = &[
    "OTEL_EXPORTER_OTLP_LOGS_",
    "OTEL_EXPORTER_OTLP_METRICS_",
    "OTEL_BLRP_",
    "OTEL_EXPORTER_ZIPKIN_",
    "OTEL_EXPORTER_PROMETHEUS_",
    "OTEL_EXPORTER_JAEGER_",
    "OTEL_INSTRUMENTATION_",
    "OTEL_PYTHON_",
    "OTEL_NODE_",
    "OTEL_JAVAAGENT_",
    "OTEL_DOTNET_",
    "OTEL_GO_",
    "OTEL_PHP_",
    "OTEL_RUBY_",
    "OTEL_BSP_",
];

/// Names longer than this are not compared (an environment variable name is short; this
/// keeps the work per variable bounded whatever the environment holds).
const MAX_NAME: usize = 128;

/// Each `OTEL_*` / `AGENT_TRACE_*` name in `names` that agent-trace does not read and no other
/// component is known to read, with the closest name agent-trace reads, if one is close.
pub(crate) fn unknown_variables<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<(&'a str, Option<&'static str>)> {
    names
        .into_iter()
        .filter(|n| n.starts_with("OTEL_") || n.starts_with("AGENT_TRACE_"))
        .filter(|n| {
            let ours = ALL.iter().any(|v| v.name == *n);
            let spec = OTHERS.contains(n) || OTHER_PREFIXES.iter().any(|p| n.starts_with(p));
            // A misspelling of one of ours is reported even inside another's namespace.
            !ours && (!spec || closest(n).is_some_and(|(_, d)| d <= 1))
        })
        .map(|n| (n, closest(n).map(|(c, _)| c)))
        .collect()
}

/// The variable agent-trace reads that is closest to `name` by edit distance, when the
/// distance is small for the name's length.
fn closest(name: &str) -> Option<(&'static str, usize)> {
    if name.len() > MAX_NAME {
        return None;
    }
    let allowed = (name.len() / 5).clamp(2, 4);
    ALL.iter()
        .map(|v| (v.name, edit_distance(name, v.name)))
        .filter(|(_, d)| *d <= allowed)
        .min_by_key(|(_, d)| *d)
}

/// Levenshtein distance over bytes (names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The one line `init` logs: whether tracing is on and why, and with what.
pub(crate) fn outcome(config: &Config, custom_exporter: bool) -> String {
    if config.disabled {
        return format!(
            "agent-trace: tracing is off for {}: disabled ({}=true, {}=false or \
             Builder::disabled); trace context still passes through",
            config.service_name,
            env::OTEL_SDK_DISABLED,
            env::OTEL_ENABLED
        );
    }
    if !config.exports() && !custom_exporter {
        return format!(
            "agent-trace: tracing is off for {}: no exporter (set {} to export over OTLP, or \
             {}=console to print traces); trace context still passes through",
            config.service_name,
            env::OTEL_EXPORTER_OTLP_ENDPOINT,
            env::OTEL_TRACES_EXPORTER
        );
    }
    let exporter = match (custom_exporter, config.exporter) {
        (true, _) => "your exporter or processor".to_string(),
        (false, Exporter::Otlp) => {
            format!("OTLP to {} ({})", config.endpoint, config.protocol.name())
        }
        (false, _) => "the console".to_string(),
    };
    let propagators: Vec<&str> = config.propagators.iter().map(|p| propagator(*p)).collect();
    let pending = if config.pending_spans {
        ", pending-span markers on"
    } else {
        ""
    };
    format!(
        "agent-trace: tracing is on for {}: spans to {exporter}, sampler {}, propagators {}, \
         message content {}, redaction {}, tail sampling {}, metrics {}, logs {}{pending}",
        config.service_name,
        sampler(config.sampler),
        if propagators.is_empty() {
            "none".to_string()
        } else {
            propagators.join(",")
        },
        on_off(config.capture_message_content),
        on_off(config.redaction.is_some()),
        on_off(config.tail.is_some()),
        config.metrics_endpoint.as_deref().unwrap_or("off"),
        match &config.logs {
            None => "off",
            Some(super::types::LogsTarget::Console) => "to the console",
            Some(super::types::LogsTarget::Otlp(url)) => url.as_str(),
        },
    )
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn sampler(s: Sampler) -> String {
    let name = |wanted: Sampler| {
        env::SAMPLERS
            .iter()
            .find(|(_, v)| std::mem::discriminant(v) == std::mem::discriminant(&wanted))
            .map_or("?", |(n, _)| n)
    };
    match s.ratio() {
        Some(r) => format!("{} {r}", name(s)),
        None => name(s).to_string(),
    }
}

fn propagator(p: Propagator) -> &'static str {
    env::PROPAGATORS
        .iter()
        .find(|(_, v)| *v == Some(p))
        .map_or("?", |(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_get_the_closest_name_and_others_are_left_alone() {
        let found = unknown_variables([
            "OTEL_TRACE_EXPORTER",
            "OTEL_EXPORTER_OTLP_ENDPIONT",
            "AGENT_TRACE_KEEP_ERROR",
            "OTEL_TRACES_EXPORTER",
            "OTEL_LOGS_EXPORTER",
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "OTEL_PYTHON_LOG_CORRELATION",
            "OTEL_COMPLETELY_DIFFERENT_THING",
            "PATH",
        ]);
        assert_eq!(
            found,
            [
                ("OTEL_TRACE_EXPORTER", Some("OTEL_TRACES_EXPORTER")),
                (
                    "OTEL_EXPORTER_OTLP_ENDPIONT",
                    Some("OTEL_EXPORTER_OTLP_ENDPOINT")
                ),
                ("AGENT_TRACE_KEEP_ERROR", Some("AGENT_TRACE_KEEP_ERRORS")),
                ("OTEL_COMPLETELY_DIFFERENT_THING", None),
            ]
        );
        // A huge name is not compared (bounded work), only reported.
        let huge = format!("OTEL_{}", "X".repeat(1 << 20));
        assert_eq!(unknown_variables([huge.as_str()]), [(huge.as_str(), None)]);
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
