//! Code generation. Expansions are short calls into `agent_trace::__private`; generated
//! tokens use `Span::mixed_site()`, so hidden locals cannot clash with user code and lints
//! about generated code are not reported against the user.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned as _;
use syn::{Expr, ItemFn, LitStr, ReturnType, Type};

use crate::parse::{parse_options, Errors, FieldMode, MacroKind, Options};
use crate::validate;

/// Entry point of the attribute macros.
pub(crate) fn attribute(kind: MacroKind, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = validate::not_a_function(kind, &item);
            return quote!(#item #err);
        }
    };
    let (opts, mut errors) = match parse_options(kind, args) {
        Ok((o, errors)) => (Some(o), errors),
        Err(e) => {
            let mut errors = Errors::default();
            errors.push(e);
            (None, errors)
        }
    };
    validate::function(kind, opts.as_ref(), &func, &mut errors);
    match (errors.finish(), opts) {
        (Ok(()), Some(opts)) => expand_fn(kind, &opts, func),
        // The user's function, unchanged, beside the errors, so one mistake gives one message
        // and the rest of the crate (and the IDE) still sees the function.
        (Err(e), _) => {
            let e = e.to_compile_error();
            quote!(#func #e)
        }
        (Ok(()), None) => quote!(#func),
    }
}

fn hidden(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}

/// `Some("...")` or `None` for an optional string option.
fn option_lit(lit: Option<&LitStr>) -> TokenStream {
    match lit {
        Some(l) => quote!(::core::option::Option::Some(#l)),
        None => quote!(::core::option::Option::None),
    }
}

/// The `name = "..."` option, else the function's name (without a raw `r#`).
fn name_or_fn(opts: &Options, func_name: Option<&syn::Ident>) -> String {
    match &opts.name {
        Some(n) => n.value(),
        None => func_name
            .map(|i| i.to_string().trim_start_matches("r#").to_string())
            .unwrap_or_default(),
    }
}

/// The `__private::start_*(...)` call for this macro.
/// A tool's description: `description = "..."`, else the first paragraph of the function's
/// doc comment (lines joined with spaces, at most 1024 characters), else none.
fn tool_description(opts: &Options, fn_attrs: &[syn::Attribute]) -> Option<LitStr> {
    if let Some(d) = &opts.description {
        return Some(d.clone());
    }
    let mut lines = Vec::new();
    for a in fn_attrs.iter().filter(|a| a.path().is_ident("doc")) {
        let syn::Meta::NameValue(nv) = &a.meta else {
            continue;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        else {
            continue;
        };
        let line = s.value();
        let line = line.trim();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(line.to_string());
    }
    let text: String = lines.join(" ").chars().take(1024).collect();
    (!text.is_empty()).then(|| LitStr::new(&text, Span::call_site()))
}

fn start_call(
    kind: MacroKind,
    opts: &Options,
    func_name: Option<&syn::Ident>,
    fn_attrs: &[syn::Attribute],
) -> TokenStream {
    let krate = opts.krate();
    let attrs = hidden("__agent_trace_attrs");
    let mut stmts = TokenStream::new();
    if kind == MacroKind::Tool {
        if let Some(d) = tool_description(opts, fn_attrs) {
            stmts.extend(quote_spanned!(Span::mixed_site()=> #attrs.tool_description(#d);));
        }
    }
    if let Some(t) = &opts.tools {
        stmts.extend(quote_spanned!(t.span()=> #attrs.tool_definitions(&(#t));));
    }
    if let Some(id) = &opts.call_id {
        stmts.extend(quote_spanned!(id.span()=> #attrs.tool_call_id(&(#id));));
    }
    if let Some(url) = &opts.url {
        stmts.extend(if kind == MacroKind::Llm {
            quote_spanned!(url.span()=> #attrs.server_url(&(#url));)
        } else {
            quote_spanned!(url.span()=> #attrs.url(&(#url));)
        });
    }
    if let Some(id) = &opts.conversation_id {
        stmts.extend(quote_spanned!(id.span()=> #attrs.conversation_id(&(#id));));
    }
    if let Some(links) = &opts.links {
        stmts.extend(quote_spanned!(links.span()=> #attrs.links(#links);));
    }
    for (key, value) in &opts.request {
        // The `Attrs` method named like the option records it with its registry key and type.
        let method = syn::Ident::new(key.name(), Span::call_site());
        stmts.extend(quote_spanned!(value.span()=> #attrs.#method(&(#value));));
    }
    if let Some(p) = &opts.system {
        stmts.extend(quote_spanned!(p.span()=> #attrs.system_instructions(&(#p));));
    }
    if let Some(p) = &opts.prompt {
        stmts.extend(quote_spanned!(p.span()=> #attrs.prompt(&(#p));));
    }
    if let Some(m) = &opts.method {
        stmts.extend(quote_spanned!(Span::mixed_site()=> #attrs.http_method(#m);));
    }
    for c in &opts.capture {
        let key = LitStr::new(&format!("agent_trace.arg.{c}"), c.span());
        // `&arg` twice: it has no side effects, and the second, spanned on `arg`, is where a
        // value that is not `Debug` gets its error.
        let arg = quote_spanned!(c.span()=> &#c);
        stmts.extend(capture_arg(opts, &attrs, &key, &arg, Some(&arg)));
    }
    for f in &opts.fields {
        let key = LitStr::new(&f.key, f.key_span);
        let v = &f.value;
        stmts.extend(match f.mode {
            FieldMode::Value => quote_spanned!(v.span()=> #attrs.field(#key, &(#v));),
            FieldMode::Debug => {
                capture_arg(opts, &attrs, &key, &quote_spanned!(v.span()=> &(#v)), None)
            }
            FieldMode::Display => quote_spanned!(v.span()=> #attrs.field_display(#key, &(#v));),
        });
    }
    let closure = quote_spanned!(Span::mixed_site()=>
        |#attrs: &mut #krate::__private::Attrs| { #stmts }
    );
    let lit = |s: String| LitStr::new(&s, Span::call_site());
    match kind {
        MacroKind::Tool => {
            let tool = name_or_fn(opts, func_name);
            let span_name = lit(format!("execute_tool {tool}"));
            let tool = lit(tool);
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::start_tool(#span_name, #tool, #closure))
        }
        MacroKind::A2a | MacroKind::A2aSpan => {
            let target = opts.target.as_ref().map(LitStr::value).unwrap_or_default();
            let span_name = lit(format!("invoke_agent {target}"));
            let target = lit(target);
            let source = option_lit(opts.source.as_ref());
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::start_a2a(#span_name, #target, #source, #closure))
        }
        MacroKind::Llm => {
            let model = opts.model.as_ref().map(LitStr::value).unwrap_or_default();
            let span_name = lit(format!("chat {model}"));
            let model = lit(model);
            let provider = option_lit(opts.provider.as_ref());
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::start_llm(#span_name, #model, #provider, #closure))
        }
        MacroKind::AgentRun => {
            let name = name_or_fn(opts, func_name);
            let span_name = lit(format!("invoke_agent {name}"));
            let name = lit(name);
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::start_agent_run(#span_name, #name, #closure))
        }
        MacroKind::Phase => {
            let phase = opts.name.as_ref().map(LitStr::value).unwrap_or_default();
            let span_name = lit(format!("agent_phase {phase}"));
            let phase = lit(phase);
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::start_phase(#span_name, #phase, #closure))
        }
    }
}

/// How much the outcome probe may assume about the value's type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typing {
    /// The type is pinned by the function signature: `ErrorType` (with a `source()` chain,
    /// then without), then `std::error::Error`, then `Display`, then any.
    Known,
    /// The type may still be inferred from code after the macro (an `a2a_span!` block whose
    /// error type comes from a later `let`): `Display`, then any. The three-level probe would
    /// commit to the `ErrorType` candidate while the error type is unknown.
    Late,
}

/// Records `value` (an expression of type `&T`, evaluated once) under `key` through the
/// `capture_arg` probe: only the head of a slice, vector, array or string is formatted. The
/// probe also gets the value as `&dyn Debug`, from `again` (an expression safe to evaluate a
/// second time, carrying the user's span for the error of a value that is not `Debug`) or
/// else from the bound value.
fn capture_arg(
    opts: &Options,
    attrs: &syn::Ident,
    key: &LitStr,
    value: &TokenStream,
    again: Option<&TokenStream>,
) -> TokenStream {
    let krate = opts.krate();
    let v = hidden("__agent_trace_v");
    let d = hidden("__agent_trace_d");
    let bind = match again {
        Some(e) => quote_spanned!(e.span()=> let #d: &dyn ::core::fmt::Debug = #e;),
        None => quote_spanned!(value.span()=> let #d: &dyn ::core::fmt::Debug = #v;),
    };
    quote_spanned!(Span::mixed_site()=> {
        let #v = #value;
        #bind
        #[allow(unused_imports)]
        use #krate::__private::{
            CaptureHead as _, CaptureHeadJson as _, CaptureSerialize as _, CaptureWhole as _,
        };
        #krate::__private::probe!(capture_arg, #v).__agent_trace_capture_arg(#attrs, #key, #d);
    })
}

/// Records the outcome of `value` (an expression of type `&T`) on span `s`.
fn record(opts: &Options, value: &TokenStream, s: &syn::Ident, typing: Typing) -> TokenStream {
    let krate = opts.krate();
    let mut out = match typing {
        Typing::Known if opts.err_debug => quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{
                RecordAny as _, RecordDebugResult as _, RecordDebugTypedResult as _,
            };
            #krate::__private::probe!(outcome_debug, #value).__agent_trace_record(#s);
        ),
        Typing::Known => quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{
                RecordAny as _, RecordErrorResult as _, RecordResult as _,
                RecordTypedErrorResult as _, RecordTypedResult as _,
            };
            #krate::__private::probe!(outcome, #value).__agent_trace_record(#s);
        ),
        Typing::Late => quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{RecordAny as _, RecordResult as _};
            #krate::__private::probe!(outcome_late, #value).__agent_trace_record(#s);
        ),
    };
    if opts.model.is_some() {
        out.extend(quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{LlmAny as _, LlmResult as _, LlmValue as _};
            #krate::__private::probe!(llm, #value).__agent_trace_llm(#s);
        ));
    }
    if let Some(span) = opts.capture_result {
        let probe = quote_spanned!(span=> #krate::__private::probe!(capture, #value));
        out.extend(quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{
                CaptureOk as _, CaptureOkHead as _, CaptureOkHeadJson as _,
                CaptureOkSerialize as _, CaptureValue as _, CaptureValueHead as _,
                CaptureValueHeadJson as _, CaptureValueSerialize as _,
            };
        ));
        out.extend(quote_spanned!(span=>
            #probe.__agent_trace_capture(#s, #krate::__private::AGENT_TRACE_RESULT);
        ));
    }
    out
}

/// `ty` with each `impl Trait` replaced by `_` (usable in `let` and closure annotations).
fn impls_inferred(ty: &Type) -> Type {
    struct Infer;
    impl syn::visit_mut::VisitMut for Infer {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if matches!(t, Type::ImplTrait(_)) {
                *t = Type::Infer(syn::TypeInfer {
                    underscore_token: Default::default(),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Infer, &mut ty);
    ty
}

fn fake_return(ty: &Type) -> TokenStream {
    let ty = impls_inferred(ty);
    if matches!(ty, Type::Infer(_)) {
        return TokenStream::new();
    }
    quote_spanned!(Span::mixed_site()=>
        #[allow(
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __agent_trace_fake: #ty = loop {};
            return __agent_trace_fake;
        }
    )
}

enum Shape {
    Sync,
    Async,
    /// `-> impl Future<Output = ..>`
    ImplFuture,
    /// `-> Pin<Box<dyn Future<Output = ..> + ..>>`, as `#[async_trait]` writes it.
    BoxFuture,
    /// `fn -> impl Stream<Item = ..>`
    ImplStream,
    /// `fn -> Pin<Box<dyn Stream<Item = ..> + ..>>`
    BoxStream,
    /// `fn -> Result<impl Stream, E>` or `Option<impl Stream>`: the stream in the span.
    SyncStreamIn(StreamIn),
    /// `async fn -> impl Stream`, `Result<impl Stream, E>` or `Option<impl Stream>`: the span
    /// lasts until the stream ends, not until the future resolves.
    AsyncStreamIn(StreamIn),
}

/// Where a return type holds an `impl Stream` (seen in the signature), and its item type.
#[derive(Clone)]
struct StreamIn {
    wrapper: Wrapper,
    item: Option<Type>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Bare,
    Result,
    Option,
}

/// `impl Stream<Item = X>` itself, or as the first argument of a `Result` (any path ending in
/// `Result`: `io::Result`, `anyhow::Result`) or an `Option`.
fn impl_stream_in(ty: &Type) -> Option<StreamIn> {
    let is_impl_stream = |t: &Type| matches!(t, Type::ImplTrait(i) if i.bounds.iter().any(|b| is_bound(b, "Stream")));
    let item = |t: &Type| assoc_of(t, "Stream", "Item");
    if is_impl_stream(ty) {
        return Some(StreamIn {
            wrapper: Wrapper::Bare,
            item: item(ty),
        });
    }
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let wrapper = match last.ident.to_string().as_str() {
        "Result" => Wrapper::Result,
        "Option" => Wrapper::Option,
        _ => return None,
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let first = args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })?;
    is_impl_stream(first).then(|| StreamIn {
        wrapper,
        item: item(first),
    })
}

/// The shape of `func`; with `stream = false`, streams are not followed (the span ends when
/// the function returns, as for any other value).
fn shape(func: &ItemFn, follow_streams: bool) -> Shape {
    let ret = match &func.sig.output {
        ReturnType::Type(_, ty) => Some(&**ty),
        ReturnType::Default => None,
    };
    let stream_in = ret.and_then(impl_stream_in).filter(|_| follow_streams);
    if func.sig.asyncness.is_some() {
        return match stream_in {
            Some(s) => Shape::AsyncStreamIn(s),
            None => Shape::Async,
        };
    }
    let Some(ty) = ret else {
        return Shape::Sync;
    };
    let boxed =
        matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Pin"));
    match (ty, stream_in) {
        (Type::ImplTrait(t), _) if t.bounds.iter().any(|b| is_bound(b, "Future")) => {
            Shape::ImplFuture
        }
        (
            _,
            Some(StreamIn {
                wrapper: Wrapper::Bare,
                ..
            }),
        ) => Shape::ImplStream,
        (_, Some(s)) => Shape::SyncStreamIn(s),
        _ if boxed && assoc_of(ty, "Future", "Output").is_some() => Shape::BoxFuture,
        _ if boxed && follow_streams && assoc_of(ty, "Stream", "Item").is_some() => {
            Shape::BoxStream
        }
        _ => Shape::Sync,
    }
}

/// `X` in `impl Trait<Assoc = X>` or `Pin<Box<dyn Trait<Assoc = X>>>`, for `Future`'s
/// `Output` and `Stream`'s `Item`.
fn assoc_of(ty: &Type, trait_name: &str, assoc: &str) -> Option<Type> {
    let from_bounds = |bounds: &syn::punctuated::Punctuated<
        syn::TypeParamBound,
        syn::Token![+],
    >| {
        bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => {
                let last = t.path.segments.last()?;
                if last.ident != trait_name {
                    return None;
                }
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                args.args.iter().find_map(|a| match a {
                    syn::GenericArgument::AssocType(at) if at.ident == assoc => Some(at.ty.clone()),
                    _ => None,
                })
            }
            _ => None,
        })
    };
    match ty {
        Type::ImplTrait(t) => from_bounds(&t.bounds),
        Type::TraitObject(o) => from_bounds(&o.bounds),
        Type::Paren(p) => assoc_of(&p.elem, trait_name, assoc),
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => assoc_of(t, trait_name, assoc),
                _ => None,
            })
        }
        _ => None,
    }
}

/// The closure that records each stream item: `Err` items mark the span, and a model call's
/// chunks are read ([`LlmChunk`](../agent_trace/trait.LlmChunk.html)). Typed when the item
/// type is written out; otherwise its type comes from the call the closure is passed to.
fn item_recorder(opts: &Options, item_ty: Option<&Type>) -> TokenStream {
    let krate = opts.krate();
    let item = hidden("__agent_trace_item");
    let s = hidden("__agent_trace_s");
    let mut rec = quote_spanned!(Span::mixed_site()=>
        #[allow(unused_imports)]
        use #krate::__private::{RecordItemAny as _, RecordItemResult as _};
        #krate::__private::probe!(item, #item).__agent_trace_item(#s);
    );
    if opts.model.is_some() {
        rec.extend(quote_spanned!(Span::mixed_site()=>
            #[allow(unused_imports)]
            use #krate::__private::{ChunkAny as _, ChunkResult as _, ChunkValue as _};
            #krate::__private::probe!(llm_item, #item).__agent_trace_chunk(#s);
        ));
    }
    match item_ty.map(impls_inferred) {
        Some(t) if !matches!(t, Type::Infer(_)) => quote_spanned!(Span::mixed_site()=>
            |#item: &#t, #s: &mut #krate::__private::StreamSpan| { #rec }
        ),
        _ => quote_spanned!(Span::mixed_site()=> |#item, #s| { #rec }),
    }
}

/// What happens to a returned value after its outcome is recorded.
enum Follow<'a> {
    /// Decided from its type: a boxed stream (or a `Result`/`Option` of one) keeps the span
    /// until it ends; a stream of another type is a compile error, spanned on the return
    /// type given here; anything else ends it.
    ByType(Span),
    /// The signature says `impl Stream` (in a `Result` or `Option`): the stream in the span.
    In(&'a StreamIn),
    /// `stream = false`: the span ends with the call.
    No,
}

/// The statements that record the outcome of `out` (a value of the return type, by move) on
/// the span in `span` (`&mut Option<ActiveSpan>`), then hand the span on (`Follow`); they
/// evaluate to the value the caller gets.
fn finish_body(
    opts: &Options,
    out: &syn::Ident,
    span: &syn::Ident,
    follow: &Follow<'_>,
) -> TokenStream {
    let krate = opts.krate();
    let s = hidden("__agent_trace_s");
    let rec = record(
        opts,
        &quote_spanned!(Span::mixed_site()=> &#out),
        &s,
        Typing::Known,
    );
    let handed = match follow {
        Follow::No => quote_spanned!(Span::mixed_site()=> #out),
        Follow::ByType(ret) => {
            let item = item_recorder(opts, None);
            // Spanned on the return type, so the error of a stream that cannot be followed
            // shows the signature.
            let finish = quote_spanned!(*ret=> finish);
            quote_spanned!(Span::mixed_site()=> {
                #[allow(unused_imports)]
                use #krate::__private::{
                    KindBoxed as _, KindLocalBoxed as _, KindOptionBoxed as _,
                    KindOptionLocalBoxed as _, KindOptionStream as _, KindPlain as _,
                    KindResultBoxed as _, KindResultLocalBoxed as _, KindResultStream as _,
                    KindStream as _,
                };
                #krate::__private::probe!(stream_out, &#out)
                    .__agent_trace_stream_kind()
                    .#finish(#out, #span, #item)
            })
        }
        Follow::In(stream_in) => {
            let item = item_recorder(opts, stream_in.item.as_ref());
            let wrap = match stream_in.wrapper {
                Wrapper::Bare => quote_spanned!(Span::mixed_site()=> instrument_stream),
                Wrapper::Result => quote_spanned!(Span::mixed_site()=> stream_in_result),
                Wrapper::Option => quote_spanned!(Span::mixed_site()=> stream_in_option),
            };
            quote_spanned!(Span::mixed_site()=>
                #krate::__private::#wrap(::core::option::Option::take(#span), #out, #item)
            )
        }
    };
    quote_spanned!(Span::mixed_site()=>
        if let ::core::option::Option::Some(#s) = ::core::option::Option::as_mut(#span) {
            #rec
        }
        #handed
    )
}

/// The closure a traced future finishes with (`__private::instrument_with`): the output's
/// type spelled out when the signature gives it (so the outcome probe never sees an
/// un-inferred error type).
fn finisher(opts: &Options, out_ty: Option<&Type>, follow: &Follow<'_>) -> TokenStream {
    let krate = opts.krate();
    let out = hidden("__agent_trace_out");
    let span = hidden("__agent_trace_span");
    let body = finish_body(opts, &out, &span, follow);
    let span_ty = quote_spanned!(Span::mixed_site()=>
        &mut ::core::option::Option<#krate::__private::ActiveSpan>
    );
    match out_ty.map(impls_inferred) {
        Some(t) if !matches!(t, Type::Infer(_)) => quote_spanned!(Span::mixed_site()=>
            |#out: #t, #span: #span_ty| { #body }
        ),
        _ => quote_spanned!(Span::mixed_site()=> |#out, #span: #span_ty| { #body }),
    }
}

fn is_bound(b: &syn::TypeParamBound, trait_name: &str) -> bool {
    matches!(b, syn::TypeParamBound::Trait(t)
        if t.path.segments.last().is_some_and(|s| s.ident == trait_name))
}

fn expand_fn(kind: MacroKind, opts: &Options, func: ItemFn) -> TokenStream {
    let follow_streams = opts.stream.is_none_or(|(follow, _)| follow);
    let fn_shape = shape(&func, follow_streams);
    let ret_span = match &func.sig.output {
        ReturnType::Type(_, t) => t.span(),
        ReturnType::Default => Span::call_site(),
    };
    let by_type = match follow_streams {
        true => Follow::ByType(ret_span),
        false => Follow::No,
    };
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let krate = opts.krate();
    let start = start_call(kind, opts, Some(&sig.ident), &attrs);
    let span = hidden("__agent_trace_span");
    let result = hidden("__agent_trace_result");
    let future = hidden("__agent_trace_future");
    let ret_ty: Type = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    };
    // The body's statements, spliced after the fake return into one block: nesting the
    // user's block (`{ fake { Ok(1) } }`) makes rustc warn "unnecessary braces" in the
    // user's crate for one-expression bodies.
    let stmts = &block.stmts;
    let body = match &fn_shape {
        Shape::Sync => {
            let fake = fake_return(&ret_ty);
            let slot = hidden("__agent_trace_slot");
            let finish = finish_body(opts, &result, &slot, &by_type);
            let body = hidden("__agent_trace_body");
            // With no span (tracing off, or a span not started) the body is called at once:
            // nothing is moved into a slot, which otherwise copies the whole
            // `Option<ActiveSpan>` on every untraced call. The span is moved out by the
            // pattern (`Some(span)`, not `span @ Some(_)`): the `None` arm then has nothing
            // left to drop, where a binding of the whole `Option` left an out-of-line call of
            // its drop glue on the untraced path. The body is one closure, called from either
            // branch. The outcome and the stream check are inline (not a closure), so a
            // return type with `impl Trait` in it is already known where they look at it.
            quote_spanned!(Span::mixed_site()=>
                let #span = #start;
                let #body = move || { #fake #(#stmts)* };
                match #span {
                    ::core::option::Option::None => #krate::__private::call_once(#body),
                    ::core::option::Option::Some(#span) => {
                        let mut #span = #krate::__private::SpanSlot::new(::core::option::Option::Some(#span));
                        let #result = #krate::__private::call(#span.get_mut(), #body);
                        let #slot = #span.get_mut();
                        #finish
                    }
                }
            )
        }
        Shape::Async => {
            let fake = fake_return(&ret_ty);
            let finish = finisher(opts, Some(&ret_ty), &by_type);
            // As for sync bodies: with no span the body's future is awaited as it is, so no
            // `Option<ActiveSpan>` is moved into an `Instrumented` on untraced calls, and the
            // span is moved out by the pattern, so the `None` arm drops nothing.
            quote_spanned!(Span::mixed_site()=>
                let #span = #start;
                let #future = async move { #fake #(#stmts)* };
                match #span {
                    ::core::option::Option::None => #future.await,
                    ::core::option::Option::Some(#span) => {
                        #krate::__private::instrument_with(::core::option::Option::Some(#span), #future, #finish).await
                    }
                }
            )
        }
        Shape::AsyncStreamIn(stream_in) => {
            let fake = fake_return(&ret_ty);
            let slot = hidden("__agent_trace_slot");
            let finish = finish_body(opts, &result, &slot, &Follow::In(stream_in));
            // The span outlives the future: it is handed back with the output and goes into
            // the stream. Untraced, the stream is wrapped too (with no span: it passes
            // through), so the function has one return type.
            quote_spanned!(Span::mixed_site()=>
                let #span = #start;
                let #future = async move { #fake #(#stmts)* };
                let (#result, mut #span) = match #span {
                    ::core::option::Option::None => (#future.await, ::core::option::Option::None),
                    ::core::option::Option::Some(#span) => {
                        #krate::__private::instrument_with(
                            ::core::option::Option::Some(#span),
                            #future,
                            |#result, #span: &mut ::core::option::Option<#krate::__private::ActiveSpan>| {
                                (#result, ::core::option::Option::take(#span))
                            },
                        )
                        .await
                    }
                };
                let #slot = &mut #span;
                #finish
            )
        }
        Shape::SyncStreamIn(stream_in) => {
            let fake = fake_return(&ret_ty);
            let slot = hidden("__agent_trace_slot");
            let finish = finish_body(opts, &result, &slot, &Follow::In(stream_in));
            quote_spanned!(Span::mixed_site()=>
                let mut #span = #start;
                let #result = #krate::__private::call(&mut #span, move || { #fake #(#stmts)* });
                let #slot = &mut #span;
                #finish
            )
        }
        Shape::ImplFuture => {
            let output = assoc_of(&ret_ty, "Future", "Output");
            let stream_in = output
                .as_ref()
                .and_then(impl_stream_in)
                .filter(|_| follow_streams);
            let follow = match &stream_in {
                Some(s) => Follow::In(s),
                None => by_type,
            };
            let finish = finisher(opts, output.as_ref(), &follow);
            quote_spanned!(Span::mixed_site()=>
                let mut #span = #start;
                let #future = #krate::__private::call(&mut #span, move || #block);
                #krate::__private::instrument_with(#span, #future, #finish)
            )
        }
        Shape::ImplStream => {
            let rec = item_recorder(opts, assoc_of(&ret_ty, "Stream", "Item").as_ref());
            quote_spanned!(Span::mixed_site()=>
                let mut #span = #start;
                let #future = #krate::__private::call(&mut #span, move || #block);
                #krate::__private::instrument_stream(#span, #future, #rec)
            )
        }
        Shape::BoxStream => {
            let fake = fake_return(&ret_ty);
            let rec = item_recorder(opts, assoc_of(&ret_ty, "Stream", "Item").as_ref());
            quote_spanned!(Span::mixed_site()=>
                let mut #span = #start;
                let #future = #krate::__private::call(&mut #span, move || { #fake #(#stmts)* });
                if ::core::option::Option::is_none(&#span) {
                    return #future;
                }
                ::std::boxed::Box::pin(#krate::__private::instrument_stream(#span, #future, #rec))
            )
        }
        Shape::BoxFuture => {
            let fake = fake_return(&ret_ty);
            let finish = finisher(
                opts,
                assoc_of(&ret_ty, "Future", "Output").as_ref(),
                &by_type,
            );
            quote_spanned!(Span::mixed_site()=>
                let mut #span = #start;
                let #future = #krate::__private::call(&mut #span, move || { #fake #(#stmts)* });
                if ::core::option::Option::is_none(&#span) {
                    return #future;
                }
                ::std::boxed::Box::pin(#krate::__private::instrument_with(#span, #future, #finish))
            )
        }
    };
    quote!(
        #(#attrs)*
        #vis #sig {
            #body
        }
    )
}

/// `a2a_span!(target = "...", [options,] { block })` or `(..., async { ... })`.
pub(crate) fn a2a_span(input: TokenStream) -> TokenStream {
    let (opts, mut errors) = match parse_options(MacroKind::A2aSpan, input.clone()) {
        Ok(parsed) => parsed,
        Err(e) => return fallback_block(e, &input),
    };
    validate::a2a_span(&opts, &mut errors);
    let Some(body) = opts.body.clone() else {
        let e = match errors.finish() {
            // A mistake was already reported where the block should be; one message is enough.
            Err(e) => e,
            Ok(()) => syn::Error::new(
                Span::call_site(),
                "a2a_span! needs a block or async block last: `a2a_span!(target = \"coder\", { ... })` or `a2a_span!(target = \"coder\", async { ... })`",
            ),
        };
        let e = e.to_compile_error();
        return quote!({ #e });
    };
    if let Err(e) = errors.finish() {
        let e = e.to_compile_error();
        return match &body {
            // The block's own statements, so rustc does not also warn about doubled braces.
            Expr::Block(b) => {
                let stmts = &b.block.stmts;
                quote!({ #e #(#stmts)* })
            }
            other => quote!({ #e #other }),
        };
    }
    let krate = opts.krate();
    let start = start_call(MacroKind::A2aSpan, &opts, None, &[]);
    let span = hidden("__agent_trace_span");
    let result = hidden("__agent_trace_result");
    let s = hidden("__agent_trace_s");
    let out = hidden("__agent_trace_out");
    match body {
        Expr::Async(a) => {
            let rec = record(&opts, &out.to_token_stream(), &s, Typing::Late);
            quote_spanned!(Span::mixed_site()=> {
                let #span = #start;
                #krate::__private::instrument(#span, #a, |#out, #s| { #rec })
            })
        }
        other => {
            let rec = record(
                &opts,
                &quote_spanned!(Span::mixed_site()=> &#result),
                &s,
                Typing::Late,
            );
            quote_spanned!(Span::mixed_site()=> {
                let mut #span = #start;
                let #result = #krate::__private::call(&mut #span, || #other);
                if let ::core::option::Option::Some(#s) = ::core::option::Option::as_mut(&mut #span) {
                    #rec
                }
                #result
            })
        }
    }
}

/// On a parse error in `a2a_span!`, still emit the user's block (if one can be found) so
/// the surrounding code type-checks and only the real mistake is reported.
fn fallback_block(e: syn::Error, input: &TokenStream) -> TokenStream {
    let err = e.to_compile_error();
    let last_group = input
        .clone()
        .into_iter()
        .filter_map(|tt| match tt {
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => Some(g),
            _ => None,
        })
        .last();
    match last_group {
        Some(g) => {
            let inner = g.stream();
            quote!({ #err #inner })
        }
        None => err,
    }
}
