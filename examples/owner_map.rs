//! What `-p`'s owner map costs on this machine, piece by piece: the BPF
//! task_file iterator's walk alone (records counted and dropped), the
//! whole map from it (cmdlines, the inode hash map), and the /proc walk.
//! For performance work on `-p`; `scripts/bench.py` times whole commands.
//!
//! Usage: `owner_map [runs]` (default 5, as root); prints one line per
//! measure: median, min and max wall time in milliseconds, and the count.

use nlstat::collect::procfs::ProcRoot;
use nlstat::enrich::processes::ProcessIndex;
use nlstat::enrich::task_files::TaskFiles;
use std::time::Instant;

fn report(what: &str, mut times: Vec<f64>, count: usize) {
    use std::io::Write;
    times.sort_by(f64::total_cmp);
    let _ = writeln!(
        std::io::stdout(),
        "{what:<28} median {:8.1} ms  (min {:.1}, max {:.1})  {count}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let root = ProcRoot::default();
    let config = nlstat::config::Config {
        inputs: nlstat::config::Inputs::from_env(),
        ..Default::default()
    };
    let time = |f: &mut dyn FnMut() -> usize| {
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..runs {
            let start = Instant::now();
            count = f();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        (times, count)
    };
    let start = Instant::now();
    match TaskFiles::load(&config.inputs) {
        Ok(mut task_files) => {
            report(
                "load (BTF, verifier)",
                vec![start.elapsed().as_secs_f64() * 1000.0],
                1,
            );
            let (times, count) = time(&mut || {
                let mut n = 0;
                task_files.run(|_| n += 1).expect("iterator run");
                n
            });
            report("iterator walk, records only", times, count);
            match ProcessIndex::with_iterator(&config, &root, true) {
                Ok(mut index) => {
                    let (times, count) = time(&mut || {
                        index.refresh(&root, true).expect("iterator map");
                        index.processes_read()
                    });
                    report("map from the iterator", times, count);
                }
                Err(e) => eprintln!("map from the iterator: {e}"),
            }
        }
        Err(e) => eprintln!("iterator: {e}"),
    }
    let (times, count) = time(&mut || ProcessIndex::scan(&root, false).processes_read());
    report("map from the /proc walk", times, count);
}
