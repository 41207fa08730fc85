//! The `nlstat` binary: parse netstat's flags, run, map errors to exit
//! statuses. A closed pipe (`nlstat | head`) ends the run quietly.

use nlstat::cli::{self, Parsed};
use nlstat::io::stdio::{self, Buffering};
use nlstat::render::terminal;
use std::io::Write;

/// Write to stderr without std's `eprintln!` panic when stderr cannot be
/// written (the message is lost, the exit status stays), after the stdout
/// bytes netstat's stdio would have written by then.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        stdio::write_stderr(line.as_bytes());
    }};
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut config = match cli::parse(&args) {
        Parsed::Run(config) => config,
        Parsed::Help { own_options } => {
            // netstat's order: on a terminal the usage, then the family
            // list; in a pipe with both streams the list first, since the
            // usage waits in stdio's buffer until exit
            let mut stdout = stdio::install(Buffering::of(libc::STDOUT_FILENO));
            let _ = stdout.write_all(cli::USAGE.as_bytes());
            stdio::write_stderr(cli::AF_LIST.as_bytes());
            if own_options {
                let _ = stdout.write_all(cli::own_options_help().as_bytes());
            }
            let _ = stdout.flush();
            std::process::exit(0);
        }
        Parsed::Version => {
            let _ = std::io::stdout().write_all(cli::VERSION_TEXT.as_bytes());
            std::process::exit(0);
        }
        Parsed::Fail {
            message,
            usage,
            status,
        } => {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(message.as_bytes());
            if usage {
                let _ = stderr.write_all(cli::USAGE.as_bytes());
                let _ = stderr.write_all(cli::AF_LIST.as_bytes());
            }
            std::process::exit(status);
        }
    };
    nlstat::error::set_program_name(&config.program_name);
    // a usage error, before anything that can fail at run time
    if config.live && !stdio::is_terminal(libc::STDOUT_FILENO) {
        eprintln!(
            "{}: --live draws a screen on a terminal; standard output is not one",
            config.program_name
        );
        std::process::exit(cli::EXIT_USAGE);
    }
    // before any thread or socket exists: everything below is that
    // namespace's
    if let Some(spec) = &config.netns
        && let Err(message) = nlstat::netns::enter(spec)
    {
        eprintln!("{}: {message}", config.program_name);
        std::process::exit(1);
    }
    // Names anyone can choose must not drive the operator's terminal; JSON
    // escapes by its own rules, and pipes keep netstat's bytes.
    let terminal = !config.output.is_json() && stdio::is_terminal(libc::STDOUT_FILENO);
    config.terminal = terminal;
    let mut out =
        terminal::TerminalSafe::new(stdio::install(Buffering::of(libc::STDOUT_FILENO)), terminal);
    let result = nlstat::run(&config, &mut out).and_then(|status| {
        out.flush()?;
        Ok(status)
    });
    match result {
        // a table that could not be dumped was reported; the run went on
        Ok(0) if nlstat::error::reported() => std::process::exit(1),
        Ok(status) => std::process::exit(status),
        Err(e) if e.is_broken_pipe() => std::process::exit(0),
        Err(e) => {
            let _ = out.flush();
            eprintln!("{}: {e}", config.program_name);
            std::process::exit(1);
        }
    }
}
