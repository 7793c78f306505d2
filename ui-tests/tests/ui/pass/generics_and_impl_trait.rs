use std::fmt::Debug;
use agent_trace::traced_tool;

#[traced_tool]
fn generic<T: Debug + Clone, const N: usize>(items: [T; N]) -> Vec<T> {
    items.to_vec()
}

#[traced_tool]
fn where_clause<T, E>(r: Result<T, E>) -> Result<T, E>
where
    E: std::fmt::Display,
{
    r
}

#[traced_tool]
fn impl_arg(x: impl AsRef<str>) -> usize {
    x.as_ref().len()
}

#[traced_tool]
fn impl_return(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced_tool]
fn impl_in_result(x: &str) -> Result<impl std::fmt::Display, std::num::ParseIntError> {
    let v: u64 = x.parse()?;
    Ok(v)
}

#[traced_tool]
fn boxed_dyn(x: u8) -> Box<dyn Fn(u8) -> u8> {
    Box::new(move |y| x + y)
}

/// # Safety
/// None needed; this only shows the shape compiles.
#[traced_tool]
unsafe fn unsafe_fn(x: u8) -> u8 {
    x
}

fn main() {
    generic([1, 2]);
    where_clause::<u8, String>(Ok(1)).unwrap();
    impl_arg("x");
    impl_return(2).count();
    impl_in_result("1").unwrap();
    boxed_dyn(1)(2);
    // SAFETY: `unsafe_fn` has no preconditions.
    unsafe { unsafe_fn(1) };
}
