struct Config {
    retries: u8,
}

#[agent_trace::traced_tool(fields(config = cfg))]
fn run(cfg: &Config) -> u8 {
    cfg.retries
}

fn main() {}
