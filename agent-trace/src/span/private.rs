//! `agent_trace::__private`: what the macro expansions call, and nothing else. Not a public
//! API: names and signatures change freely. The behaviour lives in the modules named here.

pub use super::core::{panic_message, ActiveSpan, SpanSlot};
pub use super::probes::{
    CaptureHead, CaptureHeadJson, CaptureOk, CaptureOkHead, CaptureOkHeadJson, CaptureOkSerialize,
    CaptureSerialize, CaptureValue, CaptureValueHead, CaptureValueHeadJson, CaptureValueSerialize,
    CaptureWhole, ChunkAny, ChunkResult, ChunkValue, HeadDebug, HeadJson, KindBoxed,
    KindLocalBoxed, KindOptionBoxed, KindOptionLocalBoxed, KindOptionStream, KindPlain,
    KindResultBoxed, KindResultLocalBoxed, KindResultStream, KindStream, LlmAny, LlmResult,
    LlmValue, Probe, RecordAny, RecordDebugResult, RecordDebugTypedResult, RecordErrorResult,
    RecordItemAny, RecordItemResult, RecordResult, RecordTypedErrorResult, RecordTypedResult,
};
pub use super::run::{call, call_once, instrument, instrument_with, Instrumented};
pub use super::semconv::AGENT_TRACE_RESULT;
pub use super::start::{
    start_a2a, start_agent_run, start_llm, start_phase, start_tool, Attrs, RequestCount,
    RequestNumber, StopSequences, ToAttributeValue,
};
pub use super::stream::{
    instrument_stream, stream_in_option, stream_in_result, InstrumentedStream, StreamSpan,
};
pub use crate::__agent_trace_probe as probe;
