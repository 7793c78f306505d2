use agent_trace::a2a_span;

fn helper() -> Result<u8, std::io::Error> {
    let port = 8080;
    let v = a2a_span!(target = "coder", url = format!("http://127.0.0.1:{port}"), fields(n = 1), {
        let x: u8 = "7".parse().map_err(std::io::Error::other)?;
        Ok::<u8, std::io::Error>(x)
    })?;
    let mut counter = 0;
    a2a_span!(target = "counter", {
        counter += 1;
    });
    Ok(v + counter)
}

async fn in_async() -> u8 {
    a2a_span!(target = "reviewer", method = "POST", async move { 5u8 }).await
}

fn main() {
    helper().unwrap();
    drop(in_async());
}
