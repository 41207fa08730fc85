//! `--replay FILE`: the pipeline over a recording instead of the kernel,
//! tick by tick with the recorded times (nothing waits between ticks).

use super::{ModeState, write_tick_start};
use crate::collect::tape::{self, TapeError};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::Tick;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub(super) fn run(config: &Config, path: &Path, out: &mut impl Write) -> Result<i32> {
    let failed = |e: TapeError| match e {
        TapeError::Io(e) => Error::file(path.display().to_string(), e),
        other => Error::file(
            path.display().to_string(),
            std::io::Error::other(other.to_string()),
        ),
    };
    let mut player = tape::open(path).map_err(failed)?;
    crate::io::stop::install();
    let mut state = ModeState::default();
    let (inode, name) = crate::netns::current(config.netns.as_deref());
    let context = Tick {
        netns_inode: inode,
        netns_label: &name,
        netns_key: &name,
        labelled: false,
    };
    let mut played = 0;
    while config.count.is_none_or(|count| played < count) && !crate::io::stop::requested() {
        let Some(tick) = player.next_tick().map_err(failed)? else {
            break;
        };
        let stamp = tick.stamp;
        tape::play(Arc::new(tick));
        if config.continuous {
            write_tick_start(out, config, &stamp)?;
        }
        let status = state.tick(config, &context, out, None)?;
        out.flush()?;
        if let Some(missing) = tape::take_missing() {
            return Err(failed(TapeError::Damaged(missing)));
        }
        played += 1;
        if status != 0 {
            return Ok(status);
        }
    }
    if played == 0 {
        return Err(failed(TapeError::Damaged(format!(
            "the recording holds no tick (recorded: {})",
            player.recorded_args
        ))));
    }
    Ok(0)
}
