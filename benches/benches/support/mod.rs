//! What every benchmark binary prints first: the machine and the baseline its figures are read
//! against, because a number without its baseline is not a result (`../shared/STYLE.md`).

/// Prints the machine (CPU, cores, git revision) and the baseline criterion compares against.
pub(crate) fn print_machine() {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let revision = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |output| String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        );
    println!(
        "machine: {cpu}, {cores} cores, {}; git {revision}",
        std::env::consts::OS
    );
    println!(
        "baseline: criterion's previous run on this machine (target/criterion); pin one with \
         `-- --save-baseline NAME`, compare with `-- --baseline NAME`"
    );
}
