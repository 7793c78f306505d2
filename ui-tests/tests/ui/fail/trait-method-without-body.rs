trait Tool {
    #[agent_trace::traced_tool]
    fn run(&self) -> u32;
}

fn main() {}
