//! `routes` mode (to be filled in).

use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::error::Result;
use std::io::Write;

pub struct Routes {
    root: ProcRoot,
}

impl Routes {
    pub fn new(root: ProcRoot) -> Self {
        Routes { root }
    }

    pub fn tick(&mut self, config: &Config, out: &mut dyn Write) -> Result<i32> {
        let _ = (&self.root, config, out);
        Ok(0)
    }
}
