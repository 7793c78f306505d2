//! Option parsing shared by every macro.
//!
//! One loop reads `key = value`, `key(list)` and bare flags; one table per macro says which
//! keys it takes and what kind of value each has; one `seen` list rejects repeats. Errors are
//! collected (not returned at the first) and each is spanned on the offending token.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitStr, Path, Token};

use crate::keys::{Key, ValueKind};

/// Which macro is parsing: decides the accepted options and the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacroKind {
    Tool,
    A2a,
    Phase,
    A2aSpan,
    Llm,
    AgentRun,
}

impl MacroKind {
    pub(crate) fn display(self) -> &'static str {
        match self {
            MacroKind::Tool => "#[traced_tool]",
            MacroKind::A2a => "#[a2a_call]",
            MacroKind::Phase => "#[agent_phase]",
            MacroKind::A2aSpan => "a2a_span!",
            MacroKind::Llm => "#[llm_call]",
            MacroKind::AgentRun => "#[agent_run]",
        }
    }

    /// The options this macro takes: its own, then (`#[llm_call]`) the request parameters,
    /// then those every attribute macro takes.
    fn options(self) -> Vec<Key> {
        let own: &[Key] = match self {
            MacroKind::Tool => &[Key::Name, Key::Description, Key::CallId],
            MacroKind::A2a => &[Key::Target, Key::Source, Key::Url, Key::Method],
            MacroKind::Phase => &[Key::Name],
            MacroKind::Llm => &[
                Key::Model,
                Key::Provider,
                Key::Url,
                Key::Prompt,
                Key::System,
                Key::Tools,
            ],
            MacroKind::AgentRun => &[Key::Name, Key::ConversationId],
            MacroKind::A2aSpan => {
                return vec![
                    Key::Target,
                    Key::Source,
                    Key::Url,
                    Key::Method,
                    Key::Fields,
                    Key::Links,
                    Key::Crate,
                ]
            }
        };
        let parameters: &[Key] = match self {
            MacroKind::Llm => &Key::REQUEST_PARAMETERS,
            _ => &[],
        };
        let common = [
            Key::Capture,
            Key::CaptureResult,
            Key::Err,
            Key::Fields,
            Key::Links,
            Key::Stream,
            Key::Crate,
        ];
        [own, parameters, &common].concat()
    }

    /// A hint for a key people are likely to try.
    fn suggestion(self, key: &str) -> Option<&'static str> {
        Some(match (self, key) {
            (MacroKind::Tool, "tool" | "tool_name") => "did you mean `name = \"...\"`?",
            (MacroKind::A2a | MacroKind::A2aSpan, "agent" | "to" | "target_agent") => {
                "did you mean `target = \"...\"`?"
            }
            (MacroKind::A2a | MacroKind::A2aSpan, "from") => "did you mean `source = \"...\"`?",
            (MacroKind::A2a | MacroKind::A2aSpan, "endpoint" | "uri") => {
                "did you mean `url = ...`?"
            }
            (MacroKind::Phase, "phase") => "write the phase name directly: `#[agent_phase(\"coding\")]`",
            (_, "id" | "tool_call_id") if self == MacroKind::Tool => "did you mean `call_id = ...`?",
            (_, "skip" | "skip_all") => {
                "arguments are never recorded unless listed in `capture(...)`, so there is nothing to skip"
            }
            (_, "ret" | "level") => {
                "outcomes are recorded automatically: `Err` and panics mark the span as an error"
            }
            (_, "field") => "did you mean `fields(key = value, ...)`?",
            (_, "capture_return" | "capture_ret" | "ret_value") => "did you mean `capture_result`?",
            (MacroKind::Llm, "n" | "num_choices" | "choices") => "did you mean `choice_count = ...`?",
            (MacroKind::Llm, "stop" | "stop_sequence") => "did you mean `stop_sequences = ...`?",
            (MacroKind::Llm, "max_completion_tokens" | "max_output_tokens") => {
                "did you mean `max_tokens = ...`?"
            }
            (_, "streaming" | "streams") => {
                "did you mean `stream = false`? (streams are followed without an option)"
            }
            (_, "args" | "arguments" | "capture_args") => "did you mean `capture(arg1, arg2)`?",
            _ => return None,
        })
    }
}

/// How a `fields(...)` value is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldMode {
    Value,
    Debug,
    Display,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) mode: FieldMode,
    pub(crate) value: Expr,
}

/// The parsed options of one macro call. Absent options are `None`/empty.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub(crate) name: Option<LitStr>,
    pub(crate) target: Option<LitStr>,
    pub(crate) source: Option<LitStr>,
    pub(crate) method: Option<LitStr>,
    pub(crate) url: Option<Expr>,
    pub(crate) call_id: Option<Expr>,
    pub(crate) model: Option<LitStr>,
    pub(crate) provider: Option<LitStr>,
    pub(crate) prompt: Option<Expr>,
    /// `system = expr`: the system instructions of an `#[llm_call]`.
    pub(crate) system: Option<Expr>,
    /// `description = "..."`: a tool's description (else its doc comment's first paragraph).
    pub(crate) description: Option<LitStr>,
    /// `tools = expr`: the tool definitions an `#[llm_call]` offers the model.
    pub(crate) tools: Option<Expr>,
    pub(crate) conversation_id: Option<Expr>,
    /// `links = expr`: contexts the span links to.
    pub(crate) links: Option<Expr>,
    pub(crate) capture: Vec<Ident>,
    pub(crate) capture_result: Option<Span>,
    /// `err(Debug)`: the error's message is its `Debug` form.
    pub(crate) err_debug: bool,
    pub(crate) fields: Vec<Field>,
    pub(crate) krate: Option<Path>,
    /// For `a2a_span!`: the block or async block that comes last.
    pub(crate) body: Option<Expr>,
    /// `stream = false`: a returned stream is not followed; the span ends at the return.
    pub(crate) stream: Option<(bool, Span)>,
    /// The request parameters of an `#[llm_call]` (`temperature = expr`, ...), in order.
    pub(crate) request: Vec<(Key, Expr)>,
    /// Options the user wrote, even with a mistake (so "missing" is not reported on top).
    pub(crate) attempted: Vec<&'static str>,
}

impl Options {
    /// Whether the user wrote `key` (valid or not), or a misspelling that was reported.
    pub(crate) fn attempted(&self, key: &str) -> bool {
        self.attempted.contains(&key)
    }

    /// Where a string option goes. Only keys whose kind is `Str` reach here.
    fn str_slot(&mut self, key: Key) -> &mut Option<LitStr> {
        match key {
            Key::Name => &mut self.name,
            Key::Target => &mut self.target,
            Key::Source => &mut self.source,
            Key::Method => &mut self.method,
            Key::Model => &mut self.model,
            Key::Provider => &mut self.provider,
            Key::Description => &mut self.description,
            other => unreachable!("`{}` does not take a string", other.name()),
        }
    }

    /// Where an expression option goes. Only keys whose kind is `Expression` reach here.
    fn expr_slot(&mut self, key: Key) -> &mut Option<Expr> {
        match key {
            Key::Url => &mut self.url,
            Key::CallId => &mut self.call_id,
            Key::Prompt => &mut self.prompt,
            Key::System => &mut self.system,
            Key::Tools => &mut self.tools,
            Key::ConversationId => &mut self.conversation_id,
            Key::Links => &mut self.links,
            other => unreachable!("`{}` does not take an expression", other.name()),
        }
    }

    pub(crate) fn krate(&self) -> TokenStream {
        match &self.krate {
            Some(p) => quote::quote!(#p),
            None => quote::quote!(::agent_trace),
        }
    }
}

/// Collects errors so all of them are reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub(crate) fn push_at(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Parses the options of `kind` from `tokens`. A syntax error that stops parsing is the outer
/// `Err`; mistakes found along the way come back beside the options, so checks that need the
/// options (and the function) can still add theirs and all are reported together.
pub(crate) fn parse_options(
    kind: MacroKind,
    tokens: TokenStream,
) -> Result<(Options, Errors), syn::Error> {
    let parser = |input: ParseStream<'_>| -> syn::Result<(Options, Errors)> {
        let mut errors = Errors::default();
        let mut opts = Options::default();
        let mut seen: Vec<String> = Vec::new();
        let mut first = true;
        while !input.is_empty() {
            // `#[agent_phase("coding")]`: the name may come first, without a key.
            if kind == MacroKind::Phase && first && input.peek(LitStr) {
                opts.name = Some(input.parse()?);
                opts.attempted.push("name");
                seen.push("name".into());
                first = false;
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
            // `a2a_span!(..., { block })` / `a2a_span!(..., async { })`: the body comes last.
            if kind == MacroKind::A2aSpan
                && (input.peek(syn::token::Brace)
                    || input.peek(Token![async])
                    || input.peek(Token![move]))
            {
                opts.body = Some(parse_span_body(input, &mut errors)?);
                break;
            }
            first = false;
            // A known key (a custom keyword), or any other word (reported as unknown).
            let known = Key::parse(input)?;
            let key = match known {
                Some((k, span)) => Ident::new(k.name(), span),
                None if input.peek(Ident::peek_any) => input.call(Ident::parse_any)?,
                None => {
                    let tt: TokenTree = input.parse()?;
                    errors.push_at(tt.span(), expected_option(kind));
                    skip_value(input)?;
                    continue;
                }
            };
            let key_str = key.to_string();
            let accepted = known.map(|(k, _)| k).filter(|k| kind.options().contains(k));
            // `#[agent_phase(coding)]`: a bare word where the name goes.
            if kind == MacroKind::Phase
                && opts.name.is_none()
                && !input.peek(Token![=])
                && !input.peek(syn::token::Paren)
                && accepted.is_none()
            {
                errors.push_at(
                    key.span(),
                    format!(
                        "write the phase name as a string literal: `#[agent_phase(\"{key_str}\")]`"
                    ),
                );
                opts.attempted.push("name");
                skip_value(input)?;
                continue;
            }
            let Some(k) = accepted else {
                unknown_option(kind, &key, &mut opts, &mut errors);
                skip_value(input)?;
                continue;
            };
            if seen.contains(&key_str) {
                errors.push_at(
                    key.span(),
                    format!("`{key_str}` is given more than once; keep one"),
                );
            }
            seen.push(key_str.clone());
            opts.attempted.push(k.name());
            parse_value(k, &key, input, &mut opts, &mut errors)?;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok((opts, errors))
    };
    parser.parse2(tokens)
}

/// The block (or async block) last in `a2a_span!`; anything after it is reported.
fn parse_span_body(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Expr> {
    let body: Expr = input.parse()?;
    if !matches!(body, Expr::Block(_) | Expr::Async(_)) {
        errors.push_at(
            span_of(&body),
            "a2a_span! needs a block `{ ... }` or an async block `async { ... }` last",
        );
    }
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        errors.push(syn::Error::new_spanned(
            rest,
            "nothing may follow the block in a2a_span!; put options before it",
        ));
    }
    Ok(body)
}

/// Reads the value of option `k` (written as `key`) into `opts`; a mistake is reported and
/// the value skipped, so the next options are still read.
fn parse_value(
    k: Key,
    key: &Ident,
    input: ParseStream<'_>,
    opts: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    match k.kind() {
        ValueKind::Str => {
            expect_eq(input, key, "\"...\"")?;
            if let Some(s) = string_value(k, input, errors)? {
                *opts.str_slot(k) = Some(s);
            }
        }
        ValueKind::Expression if Key::REQUEST_PARAMETERS.contains(&k) => {
            expect_eq(input, key, "expression")?;
            opts.request.push((k, input.parse()?));
        }
        ValueKind::Expression => {
            expect_eq(input, key, "expression")?;
            *opts.expr_slot(k) = Some(input.parse()?);
        }
        ValueKind::Bool => {
            expect_eq(input, key, "false")?;
            match input.parse::<Lit>() {
                Ok(Lit::Bool(b)) => opts.stream = Some((b.value, b.span)),
                Ok(other) => errors.push_at(
                    other.span(),
                    format!("`{key}` takes `true` or `false`, like `{key} = false`"),
                ),
                Err(_) => {
                    let tt: TokenTree = input.fork().parse()?;
                    errors.push_at(
                        tt.span(),
                        format!("`{key}` takes `true` or `false`, like `{key} = false`"),
                    );
                    skip_value(input)?;
                }
            }
        }
        ValueKind::Idents => capture_list(key, input, opts, errors)?,
        ValueKind::Flag => {
            if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                let tt: TokenTree = input.fork().parse()?;
                errors.push_at(
                    tt.span(),
                    format!("`{key}` takes no value: write just `{key}`"),
                );
                return skip_value(input);
            }
            opts.capture_result = Some(key.span());
        }
        ValueKind::FieldList => field_list(key, input, opts, errors)?,
        ValueKind::CratePath => {
            expect_eq(input, key, "path")?;
            opts.krate = Some(input.call(Path::parse_mod_style)?);
        }
        ValueKind::ErrForm => err_form(key, input, opts, errors)?,
    }
    Ok(())
}

/// `key = "literal"`: the literal, or `None` after reporting what is wrong with it.
fn string_value(
    k: Key,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    let key = k.name();
    let wrong = || {
        format!(
            "`{key}` takes a string literal, like `{key} = \"{}\"`",
            k.example()
        )
    };
    let lit: Lit = match input.parse() {
        Ok(l) => l,
        Err(_) => {
            let tt: TokenTree = input.fork().parse()?;
            errors.push_at(tt.span(), wrong());
            skip_value(input)?;
            return Ok(None);
        }
    };
    match lit {
        Lit::Str(s) if s.value().trim().is_empty() => {
            errors.push_at(s.span(), format!("`{key}` cannot be empty"));
            Ok(None)
        }
        Lit::Str(s) => Ok(Some(s)),
        other => {
            errors.push_at(other.span(), wrong());
            Ok(None)
        }
    }
}

/// `key(item, ...)`: the items, or `None` (after reporting `missing`, and skipping the
/// value) when no parenthesized list follows.
fn parenthesized<T>(
    key: &Ident,
    input: ParseStream<'_>,
    errors: &mut Errors,
    missing: &str,
    item: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Option<Punctuated<T, Token![,]>>> {
    if !input.peek(syn::token::Paren) {
        errors.push_at(key.span(), missing);
        skip_value(input)?;
        return Ok(None);
    }
    let content;
    syn::parenthesized!(content in input);
    Punctuated::parse_terminated_with(&content, item).map(Some)
}

/// `capture(a, b)`: argument names, each once.
fn capture_list(
    key: &Ident,
    input: ParseStream<'_>,
    opts: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    let missing = "`capture` lists argument names in parentheses, like `capture(query, limit)`";
    let Some(list) = parenthesized(key, input, errors, missing, Ident::parse_any)? else {
        return Ok(());
    };
    if list.is_empty() {
        errors.push_at(
            key.span(),
            "`capture()` is empty: name the arguments to record, or remove it",
        );
    }
    for id in list {
        if opts.capture.contains(&id) {
            errors.push_at(id.span(), format!("`{id}` is captured twice"));
        }
        opts.capture.push(id);
    }
    Ok(())
}

/// `fields(k = v, k2 = ?v2, k3 = %v3)`: each key once.
fn field_list(
    key: &Ident,
    input: ParseStream<'_>,
    opts: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    let missing = "`fields` takes a list in parentheses, like `fields(user.id = id, attempt = n)`";
    let Some(list) = parenthesized(key, input, errors, missing, parse_field)? else {
        return Ok(());
    };
    for f in list {
        if opts.fields.iter().any(|g| g.key == f.key) {
            errors.push_at(f.key_span, format!("field `{}` is given twice", f.key));
        }
        opts.fields.push(f);
    }
    Ok(())
}

/// `err(Debug)` or `err(Display)`.
fn err_form(
    key: &Ident,
    input: ParseStream<'_>,
    opts: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    let form = if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        content.parse::<Ident>().ok().filter(|_| content.is_empty())
    } else {
        skip_value(input)?;
        None
    };
    match form.as_ref().map(|i| i.to_string()).as_deref() {
        Some("Debug") => opts.err_debug = true,
        Some("Display") => opts.err_debug = false,
        _ => errors.push_at(
            form.as_ref().map_or(key.span(), Ident::span),
            "`err` says how the error is recorded: `err(Debug)` for its Debug form, \
             `err(Display)` (the default) for its message and `source()` chain; \
             `Err` is always recorded",
        ),
    }
    Ok(())
}

/// The message for a token where an option name should be.
fn expected_option(kind: MacroKind) -> String {
    match kind {
        MacroKind::Phase => "expected the phase name as a string literal, like `#[agent_phase(\"coding\")]`, or an option like `fields(...)`".to_string(),
        MacroKind::A2aSpan => "expected an option like `target = \"coder\"`, or the body last: a block `{ ... }` or an async block `async { ... }`".to_string(),
        _ => format!(
            "expected an option name, like `{} = ...`",
            kind.options()[0].name()
        ),
    }
}

/// Reports a key this macro does not take, with the accepted ones and a hint when one fits.
fn unknown_option(kind: MacroKind, key: &Ident, opts: &mut Options, errors: &mut Errors) {
    let key_str = key.to_string();
    let accepted: Vec<&str> = kind.options().iter().map(|k| k.name()).collect();
    let mut msg = format!(
        "unknown option `{key_str}` for {}; expected one of: {}",
        kind.display(),
        accepted.join(", ")
    );
    if let Some(s) = kind.suggestion(&key_str) {
        msg = format!("{msg}\n  help: {s}");
        for k in ["name", "target"] {
            if s.contains(&format!("`{k} =")) {
                opts.attempted.push(k);
            }
        }
    }
    errors.push_at(key.span(), msg);
}

fn expect_eq(input: ParseStream<'_>, key: &Ident, what: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key.span(),
            format!("expected `{key} = {what}`"),
        ))
    }
}

/// Skips to the next top-level comma (after an error), so later options are still checked.
fn skip_value(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// `key = expr`, `key = ?expr` (Debug), `key = %expr` (Display); `key` is dotted idents or a
/// string literal.
fn parse_field(input: ParseStream<'_>) -> syn::Result<Field> {
    let (key, key_span) = if input.peek(LitStr) {
        let s: LitStr = input.parse()?;
        (s.value(), s.span())
    } else {
        let first = input.call(Ident::parse_any)?;
        let span = first.span();
        let mut key = first.to_string();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            key.push('.');
            key.push_str(&input.call(Ident::parse_any)?.to_string());
        }
        (key, span)
    };
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key_span,
            format!("expected `{key} = value` (or `{key} = ?value` for Debug, `{key} = %value` for Display)"),
        ));
    }
    input.parse::<Token![=]>()?;
    let mode = if input.peek(Token![?]) {
        input.parse::<Token![?]>()?;
        FieldMode::Debug
    } else if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
        FieldMode::Display
    } else {
        FieldMode::Value
    };
    let value: Expr = input.parse()?;
    Ok(Field {
        key,
        key_span,
        mode,
        value,
    })
}

fn span_of(e: &Expr) -> Span {
    use syn::spanned::Spanned as _;
    e.span()
}
