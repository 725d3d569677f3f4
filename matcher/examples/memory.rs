//! Resident memory of the index alone: `cargo run --release -p matcher --example memory -- 1000000`.
fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .unwrap_or(0)
        / 1024
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let before = rss_mib();
    let profiles = matcher::synth::profiles(1, n);
    let with_profiles = rss_mib();
    let index = matcher::Index::build(matcher::ScoringConfig::default(), profiles);
    let with_index = rss_mib();
    println!(
        "{n} profiles: {} MiB as profiles, {} MiB resident with the index ({} held)",
        with_profiles - before,
        with_index - before,
        index.len()
    );
}
