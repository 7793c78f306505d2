struct Agent;

#[agent_trace::traced_tool]
impl Agent {
    fn run(&self) {}
}

fn main() {}
