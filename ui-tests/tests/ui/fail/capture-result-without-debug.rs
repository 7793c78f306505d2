struct Handle;

#[agent_trace::traced_tool(capture_result)]
fn open() -> Result<Handle, std::io::Error> {
    Ok(Handle)
}

fn main() {}
