//! The option keys every macro may take, as `syn` custom keywords (as tracing-attributes
//! does): one typed [`Key`] per option, each with the one kind of value it takes. Which
//! macro accepts which keys is in `parse.rs`; what the values must satisfy beyond their
//! syntax is in `validate.rs`.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::Token;

/// How an option's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// `key = "literal"`.
    Str,
    /// `key = expression`.
    Expression,
    /// `key(ident, ...)`.
    Idents,
    /// `key` alone.
    Flag,
    /// `fields(k = v, ...)`.
    FieldList,
    /// `crate = path`.
    CratePath,
    /// `err(Debug)` / `err(Display)`.
    ErrForm,
    /// `key = true` / `key = false`.
    Bool,
}

/// Declares the custom keywords, the `Key` enum and its table in one place.
macro_rules! keys {
    ($($kw:ident => $variant:ident: $kind:ident),* $(,)?) => {
        mod kw {
            $(syn::custom_keyword!($kw);)*
        }

        /// An option key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Key {
            $($variant,)*
            /// `crate = path` (`crate` is a Rust keyword, parsed as a token).
            Crate,
        }

        impl Key {
            /// The key as written.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => stringify!($kw),)*
                    Key::Crate => "crate",
                }
            }

            /// The one kind of value this key takes.
            pub(crate) fn kind(self) -> ValueKind {
                match self {
                    $(Key::$variant => ValueKind::$kind,)*
                    Key::Crate => ValueKind::CratePath,
                }
            }

            /// Parses a known key if one comes next; `None` (nothing consumed) otherwise.
            pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Option<(Key, Span)>> {
                $(
                    if input.peek(kw::$kw) {
                        let k = input.parse::<kw::$kw>()?;
                        return Ok(Some((Key::$variant, k.span)));
                    }
                )*
                if input.peek(Token![crate]) {
                    let k = input.parse::<Token![crate]>()?;
                    return Ok(Some((Key::Crate, k.span)));
                }
                Ok(None)
            }
        }
    };
}

keys! {
    name => Name: Str,
    target => Target: Str,
    source => Source: Str,
    method => Method: Str,
    model => Model: Str,
    provider => Provider: Str,
    description => Description: Str,
    tools => Tools: Expression,
    url => Url: Expression,
    call_id => CallId: Expression,
    prompt => Prompt: Expression,
    system => System: Expression,
    conversation_id => ConversationId: Expression,
    links => Links: Expression,
    capture => Capture: Idents,
    capture_result => CaptureResult: Flag,
    fields => Fields: FieldList,
    err => Err: ErrForm,
    stream => Stream: Bool,
    temperature => Temperature: Expression,
    max_tokens => MaxTokens: Expression,
    top_p => TopP: Expression,
    top_k => TopK: Expression,
    frequency_penalty => FrequencyPenalty: Expression,
    presence_penalty => PresencePenalty: Expression,
    stop_sequences => StopSequences: Expression,
    seed => Seed: Expression,
    choice_count => ChoiceCount: Expression,
}

impl Key {
    /// The `#[llm_call]` options that record a request parameter (`gen_ai.request.*`); each
    /// is recorded by the `Attrs` method of the same name.
    pub(crate) const REQUEST_PARAMETERS: [Key; 9] = [
        Key::Temperature,
        Key::MaxTokens,
        Key::TopP,
        Key::TopK,
        Key::FrequencyPenalty,
        Key::PresencePenalty,
        Key::StopSequences,
        Key::Seed,
        Key::ChoiceCount,
    ];
}

impl Key {
    /// An example value for the messages about string options.
    pub(crate) fn example(self) -> &'static str {
        match self {
            Key::Name => "search",
            Key::Target => "coder",
            Key::Source => "orchestrator",
            Key::Method => "POST",
            Key::Model => "gpt-4o",
            Key::Provider => "openai",
            Key::Description => "Searches the web for a query",
            _ => "...",
        }
    }
}
