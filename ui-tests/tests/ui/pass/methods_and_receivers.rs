use agent_trace::traced_tool;

#[derive(Debug, Default)]
struct Agent {
    memory: Vec<String>,
}

impl Agent {
    #[traced_tool]
    fn by_ref(&self) -> usize {
        self.memory.len()
    }

    #[traced_tool(capture(self))]
    fn by_mut(&mut self, s: String) {
        self.memory.push(s);
    }

    #[traced_tool]
    fn by_value(self) -> Vec<String> {
        self.memory
    }

    #[traced_tool]
    fn borrowed_out<'a>(&'a self, i: usize) -> Option<&'a String> {
        self.memory.get(i)
    }

    #[traced_tool]
    fn elided_out(&self) -> &[String] {
        &self.memory
    }

    #[traced_tool]
    async fn async_ref(&self) -> usize {
        self.memory.len()
    }

    #[traced_tool]
    async fn async_mut(&mut self) -> Result<(), String> {
        self.memory.clear();
        Ok(())
    }

    #[traced_tool]
    fn associated() -> Self {
        Self::default()
    }
}

fn main() {
    let mut a = Agent::associated();
    a.by_mut("x".into());
    a.by_ref();
    a.borrowed_out(0);
    a.elided_out();
    drop(a.async_ref());
    a.by_value();
}
