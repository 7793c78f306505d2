//! Every check beyond syntax, in one place: what the options mean together with the item
//! they are on (required options, captured names that must be arguments, items a span
//! cannot wrap). Syntax errors are found while parsing (`parse.rs`); all are reported
//! together, each spanned on the offending token.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned as _;
use syn::{FnArg, ItemFn, Pat};

use crate::parse::{Errors, MacroKind, Options};

/// Checks on an attribute macro's function: not a `const fn`, and, when the options parsed,
/// the required ones and the captured names.
pub(crate) fn function(
    kind: MacroKind,
    opts: Option<&Options>,
    func: &ItemFn,
    errors: &mut Errors,
) {
    if let Some(c) = &func.sig.constness {
        errors.push_at(
            c.span,
            format!(
                "{} cannot trace a `const fn`: spans are made at run time; remove `const`",
                kind.display()
            ),
        );
    }
    if let Some(opts) = opts {
        validate(kind, opts, func, errors);
    }
}

/// `a2a_span!` needs its target.
pub(crate) fn a2a_span(opts: &Options, errors: &mut Errors) {
    if !opts.attempted("target") {
        errors.push_at(
            Span::call_site(),
            "a2a_span! needs the called agent's name: `a2a_span!(target = \"coder\", { ... })`",
        );
    }
}

/// Checks that need the function: required options, and that captured names are arguments.
fn validate(kind: MacroKind, opts: &Options, func: &ItemFn, errors: &mut Errors) {
    match kind {
        MacroKind::A2a if !opts.attempted("target") => errors.push_at(
            Span::call_site(),
            "#[a2a_call] needs the called agent's name: `#[a2a_call(target = \"coder\")]`",
        ),
        MacroKind::Phase if !opts.attempted("name") => errors.push_at(
            Span::call_site(),
            "#[agent_phase] needs a phase name: `#[agent_phase(\"coding\")]`",
        ),
        MacroKind::Llm if !opts.attempted("model") => errors.push_at(
            Span::call_site(),
            "#[llm_call] needs the requested model: `#[llm_call(model = \"gpt-4o\")]`",
        ),
        _ => {}
    }
    let args = arg_names(func);
    for c in &opts.capture {
        if !args.iter().any(|a| a == &c.to_string()) {
            let list = if args.is_empty() {
                "the function takes no named arguments".to_string()
            } else {
                format!("its arguments are: {}", args.join(", "))
            };
            errors.push_at(
                c.span(),
                format!(
                    "`capture({c})`: `{}` has no argument named `{c}`; {list}",
                    func.sig.ident
                ),
            );
        }
    }
}

fn arg_names(func: &ItemFn) -> Vec<String> {
    func.sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Receiver(_) => Some("self".to_string()),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
        })
        .collect()
}

/// The error for an item that is not a function (or a function whose body does not parse:
/// then syn's own error).
pub(crate) fn not_a_function(kind: MacroKind, item: &TokenStream) -> TokenStream {
    let (span, what) = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Struct(s)) => (s.struct_token.span, "a struct"),
        Ok(syn::Item::Enum(e)) => (e.enum_token.span, "an enum"),
        Ok(syn::Item::Const(c)) => (c.const_token.span, "a const"),
        Ok(syn::Item::Static(s)) => (s.static_token.span, "a static"),
        Ok(syn::Item::Impl(i)) => (
            i.impl_token.span,
            "an impl block (put it on each method instead)",
        ),
        Ok(syn::Item::Trait(t)) => (t.trait_token.span, "a trait"),
        Ok(syn::Item::Mod(m)) => (m.mod_token.span, "a module"),
        Ok(syn::Item::Type(t)) => (t.type_token.span, "a type alias"),
        Ok(syn::Item::Use(u)) => (u.use_token.span, "a use declaration"),
        Ok(syn::Item::Union(u)) => (u.union_token.span, "a union"),
        Ok(syn::Item::Verbatim(_)) | Err(_) => {
            // A method without a body (in a trait).
            if let Ok(m) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
                let msg = format!(
                    "{} needs a function body; put it on the method in the `impl` block, or give the trait method a default body",
                    kind.display()
                );
                return syn::Error::new(m.sig.fn_token.span, msg).to_compile_error();
            }
            // A function whose body does not parse: syn's own error, where it failed (as
            // tokio-macros does), not a claim that the item is of the wrong kind.
            if let Err(e) = syn::parse2::<ItemFn>(item.clone()) {
                return e.to_compile_error();
            }
            (Span::call_site(), "this item")
        }
        Ok(other) => (other.span(), "this item"),
    };
    syn::Error::new(
        span,
        format!(
            "{} goes on a function (free fn, method, or async fn); it cannot be used on {what}",
            kind.display()
        ),
    )
    .to_compile_error()
}
