//! Compile-time behaviour of the macros: code that must compile, and mistakes that must fail
//! with a clear message on the offending token. Review `.stderr` changes by eye; regenerate with
//! `TRYBUILD=overwrite cargo test -p agent-trace-ui-tests`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
