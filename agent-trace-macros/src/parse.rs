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

    fn options(self) -> &'static [(&'static str, ValueKind)] {
        use ValueKind::*;
        match self {
            MacroKind::Tool => &[
                ("name", Str),
                ("call_id", Expression),
                ("capture", Idents),
                ("capture_result", Flag),
                ("err", ErrForm),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
            MacroKind::A2a => &[
                ("target", Str),
                ("source", Str),
                ("url", Expression),
                ("method", Str),
                ("capture", Idents),
                ("capture_result", Flag),
                ("err", ErrForm),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
            MacroKind::Phase => &[
                ("name", Str),
                ("capture", Idents),
                ("capture_result", Flag),
                ("err", ErrForm),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
            MacroKind::A2aSpan => &[
                ("target", Str),
                ("source", Str),
                ("url", Expression),
                ("method", Str),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
            MacroKind::Llm => &[
                ("model", Str),
                ("provider", Str),
                ("prompt", Expression),
                ("system", Expression),
                ("capture", Idents),
                ("capture_result", Flag),
                ("err", ErrForm),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
            MacroKind::AgentRun => &[
                ("name", Str),
                ("conversation_id", Expression),
                ("capture", Idents),
                ("capture_result", Flag),
                ("err", ErrForm),
                ("fields", FieldList),
                ("links", Expression),
                ("crate", CratePath),
            ],
        }
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
            (_, "args" | "arguments" | "capture_args") => "did you mean `capture(arg1, arg2)`?",
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Str,
    Expression,
    Idents,
    Flag,
    FieldList,
    CratePath,
    /// `err(Debug)` / `err(Display)`.
    ErrForm,
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
    /// Options the user wrote, even with a mistake (so "missing" is not reported on top).
    pub(crate) attempted: Vec<&'static str>,
}

impl Options {
    /// Whether the user wrote `key` (valid or not), or a misspelling that was reported.
    pub(crate) fn attempted(&self, key: &str) -> bool {
        self.attempted.contains(&key)
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
                let body: Expr = input.parse()?;
                if !matches!(body, Expr::Block(_) | Expr::Async(_)) {
                    errors.push_at(
                        span_of(&body),
                        "a2a_span! needs a block `{ ... }` or an async block `async { ... }` last",
                    );
                }
                opts.body = Some(body);
                if !input.is_empty() {
                    let rest: TokenStream = input.parse()?;
                    errors.push(syn::Error::new_spanned(
                        rest,
                        "nothing may follow the block in a2a_span!; put options before it",
                    ));
                }
                break;
            }
            first = false;
            let key = if input.peek(Ident::peek_any) {
                input.call(Ident::parse_any)?
            } else {
                let tt: TokenTree = input.parse()?;
                let msg = if kind == MacroKind::Phase {
                    "expected the phase name as a string literal, like `#[agent_phase(\"coding\")]`, or an option like `fields(...)`".to_string()
                } else if kind == MacroKind::A2aSpan {
                    "expected an option like `target = \"coder\"`, or the body last: a block `{ ... }` or an async block `async { ... }`".to_string()
                } else {
                    format!(
                        "expected an option name, like `{} = ...`",
                        kind.options()[0].0
                    )
                };
                errors.push_at(tt.span(), msg);
                skip_value(input)?;
                continue;
            };
            let key_str = key.to_string();
            // `#[agent_phase(coding)]`: a bare word where the name goes.
            if kind == MacroKind::Phase
                && opts.name.is_none()
                && !input.peek(Token![=])
                && !input.peek(syn::token::Paren)
                && !kind.options().iter().any(|(n, _)| *n == key_str)
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
            let Some(&(_, vk)) = kind.options().iter().find(|(n, _)| *n == key_str) else {
                let accepted: Vec<&str> = kind.options().iter().map(|(n, _)| *n).collect();
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
            if let Some(&(k, _)) = kind.options().iter().find(|(n, _)| *n == key_str) {
                opts.attempted.push(k);
            }
            match vk {
                ValueKind::Str => {
                    expect_eq(input, &key, "\"...\"")?;
                    let lit: Lit = match input.parse() {
                        Ok(l) => l,
                        Err(_) => {
                            let tt: TokenTree = input.fork().parse()?;
                            errors.push_at(
                                tt.span(),
                                format!(
                                    "`{key_str}` takes a string literal, like `{key_str} = \"{}\"`",
                                    example(&key_str)
                                ),
                            );
                            skip_value(input)?;
                            continue;
                        }
                    };
                    match lit {
                        Lit::Str(s) if s.value().trim().is_empty() => {
                            errors.push_at(s.span(), format!("`{key_str}` cannot be empty"))
                        }
                        Lit::Str(s) => {
                            let slot = match key_str.as_str() {
                                "name" => &mut opts.name,
                                "target" => &mut opts.target,
                                "source" => &mut opts.source,
                                "model" => &mut opts.model,
                                "provider" => &mut opts.provider,
                                _ => &mut opts.method,
                            };
                            *slot = Some(s);
                        }
                        other => errors.push_at(
                            other.span(),
                            format!(
                                "`{key_str}` takes a string literal, like `{key_str} = \"{}\"`",
                                example(&key_str)
                            ),
                        ),
                    }
                }
                ValueKind::Expression => {
                    expect_eq(input, &key, "expression")?;
                    let e: Expr = input.parse()?;
                    match key_str.as_str() {
                        "url" => opts.url = Some(e),
                        "prompt" => opts.prompt = Some(e),
                        "system" => opts.system = Some(e),
                        "conversation_id" => opts.conversation_id = Some(e),
                        "links" => opts.links = Some(e),
                        _ => opts.call_id = Some(e),
                    }
                }
                ValueKind::Idents => {
                    if !input.peek(syn::token::Paren) {
                        errors.push_at(
                            key.span(),
                            "`capture` lists argument names in parentheses, like `capture(query, limit)`",
                        );
                        skip_value(input)?;
                        continue;
                    }
                    let content;
                    syn::parenthesized!(content in input);
                    let list = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                        &content,
                        Ident::parse_any,
                    )?;
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
                }
                ValueKind::Flag => {
                    if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                        let tt: TokenTree = input.fork().parse()?;
                        errors.push_at(
                            tt.span(),
                            format!("`{key_str}` takes no value: write just `{key_str}`"),
                        );
                        skip_value(input)?;
                        continue;
                    }
                    opts.capture_result = Some(key.span());
                }
                ValueKind::FieldList => {
                    if !input.peek(syn::token::Paren) {
                        errors.push_at(
                            key.span(),
                            "`fields` takes a list in parentheses, like `fields(user.id = id, attempt = n)`",
                        );
                        skip_value(input)?;
                        continue;
                    }
                    let content;
                    syn::parenthesized!(content in input);
                    let list = Punctuated::<Field, Token![,]>::parse_terminated_with(
                        &content,
                        parse_field,
                    )?;
                    for f in list {
                        if opts.fields.iter().any(|g| g.key == f.key) {
                            errors.push_at(f.key_span, format!("field `{}` is given twice", f.key));
                        }
                        opts.fields.push(f);
                    }
                }
                ValueKind::CratePath => {
                    expect_eq(input, &key, "path")?;
                    opts.krate = Some(input.call(Path::parse_mod_style)?);
                }
                ValueKind::ErrForm => {
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
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok((opts, errors))
    };
    parser.parse2(tokens)
}

fn example(key: &str) -> &'static str {
    match key {
        "name" => "search",
        "target" => "coder",
        "source" => "orchestrator",
        "method" => "POST",
        "model" => "gpt-4o",
        "provider" => "openai",
        _ => "...",
    }
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
