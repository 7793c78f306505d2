//! Every function shape compiles and makes the right span.
#![allow(unsafe_code)] // `unsafe fn` is one of the shapes

use std::fmt::Display;

use agent_trace::testing::Capture;
use agent_trace::traced_tool;

struct Store {
    items: Vec<String>,
}

impl Store {
    #[traced_tool]
    fn get(&self, i: usize) -> Option<&String> {
        self.items.get(i)
    }

    #[traced_tool]
    fn push(&mut self, s: impl Into<String>) -> usize {
        self.items.push(s.into());
        self.items.len()
    }

    #[traced_tool]
    fn into_len(self) -> usize {
        self.items.len()
    }

    #[traced_tool]
    fn first_word<'a>(&'a self, sep: &str) -> Result<&'a str, String> {
        let first = self.items.first().ok_or("empty")?;
        Ok(first.split(sep).next().unwrap_or(""))
    }
}

#[traced_tool]
fn generic_where<T, U>(t: T, u: U) -> String
where
    T: Display,
    U: Display + Clone,
{
    format!("{t}{u}")
}

#[traced_tool]
fn returns_impl(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced_tool]
fn impl_arg_result(x: impl AsRef<str>) -> Result<impl Display, std::num::ParseIntError> {
    let n: i64 = x.as_ref().parse()?;
    Ok(n * 2)
}

/// # Safety
/// `p` must be valid for reads.
#[traced_tool]
unsafe fn read_raw(p: *const u32) -> u32 {
    unsafe { *p }
}

#[traced_tool]
fn recursive(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        1 + recursive(n - 1)
    }
}

#[traced_tool]
fn mutable_pattern(mut n: u32, (a, b): (u32, u32)) -> u32 {
    n += a + b;
    n
}

#[test]
fn methods_generics_impl_trait_unsafe_and_recursion() {
    let cap = Capture::start();
    cap.in_scope(|| {
        let mut s = Store { items: vec![] };
        assert_eq!(s.push("hello world"), 1);
        assert_eq!(s.get(0).map(String::as_str), Some("hello world"));
        assert_eq!(s.first_word(" "), Ok("hello"));
        assert_eq!(s.into_len(), 1);
        assert_eq!(generic_where(1, "x"), "1x");
        assert_eq!(returns_impl(3).sum::<u32>(), 3);
        assert_eq!(impl_arg_result("21").unwrap().to_string(), "42");
        assert!(impl_arg_result("x").is_err());
        let v = 5u32;
        // SAFETY: `v` is a live u32.
        assert_eq!(unsafe { read_raw(&v) }, 5);
        assert_eq!(recursive(2), 2);
        assert_eq!(mutable_pattern(1, (2, 3)), 6);
    });
    let tree = cap.tree();
    let names: Vec<_> = tree.spans().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "execute_tool push",
            "execute_tool get",
            "execute_tool first_word",
            "execute_tool into_len",
            "execute_tool generic_where",
            "execute_tool returns_impl",
            "execute_tool impl_arg_result",
            "execute_tool impl_arg_result",
            "execute_tool read_raw",
            "execute_tool recursive",
            "execute_tool recursive",
            "execute_tool recursive",
            "execute_tool mutable_pattern",
        ]
    );
    let errs: Vec<_> = tree.spans().iter().filter_map(|s| s.error()).collect();
    assert_eq!(errs, ["invalid digit found in string"]);
    // Recursion nests.
    let rec: Vec<_> = tree
        .spans()
        .iter()
        .filter(|s| s.name == "execute_tool recursive")
        .collect();
    assert_eq!(
        rec[1].parent_span_id.as_deref(),
        Some(rec[0].span_id.as_str())
    );
    assert_eq!(
        rec[2].parent_span_id.as_deref(),
        Some(rec[1].span_id.as_str())
    );
}

trait Named {
    fn name(&self) -> String;

    #[traced_tool(name = "greet")]
    fn greet(&self) -> String {
        format!("hello {}", self.name())
    }
}

struct Bob;
impl Named for Bob {
    fn name(&self) -> String {
        "bob".into()
    }
}

#[test]
fn trait_default_method() {
    let cap = Capture::start();
    assert_eq!(cap.in_scope(|| Bob.greet()), "hello bob");
    assert!(cap.tree().find("execute_tool greet").is_some());
}

#[test]
fn raw_identifier_function_names_lose_the_prefix() {
    #[traced_tool]
    fn r#match() -> u8 {
        1
    }
    let cap = Capture::start();
    cap.in_scope(r#match);
    assert!(cap.tree().find("execute_tool match").is_some());
}
