//! The benchmarks of matching.md §6. Populations come from the synthetic generator, so the
//! first run spends a few seconds building them before any timing starts.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use matcher::circles::CircleRules;
use matcher::round::Solver;
use matcher::{
    no_exclusions, synth, Index, IsolationConfig, Kind, PersonId, ScoringConfig, Vocabulary,
};

const MEMBERS: usize = 1_000_000;

/// A spread of verified people (every 97th), who seek a mentor when `kind` is `Mentor`.
fn seekers(index: &Index, kind: Kind, n: usize) -> Vec<PersonId> {
    index
        .profiles()
        .filter(|p| p.verified && p.active && (kind == Kind::Peer || p.seeking_mentor))
        .step_by(97)
        .take(n)
        .map(|p| p.id)
        .collect()
}

fn million(c: &mut Criterion) {
    let profiles = synth::profiles(7, MEMBERS);
    let mut group = c.benchmark_group("1M");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("index build", |b| {
        b.iter_batched(
            || profiles.clone(),
            |p| black_box(Index::build(ScoringConfig::default(), p)),
            BatchSize::PerIteration,
        );
    });
    let index = Index::build(ScoringConfig::default(), profiles);
    group.bench_function("isolation all", |b| {
        b.iter(|| black_box(index.isolation_all(&IsolationConfig::default())));
    });
    group.finish();

    let vocabulary = Vocabulary::standard();
    let mut group = c.benchmark_group("1M top-10");
    group
        .sample_size(500)
        .measurement_time(Duration::from_secs(10));
    for kind in [Kind::Peer, Kind::Mentor] {
        let people = seekers(&index, kind, 500);
        let mut next = people.iter().cycle();
        group.bench_function(format!("{kind:?}"), |b| {
            b.iter(|| {
                let who = next.next().copied().unwrap_or(PersonId(1));
                black_box(index.suggest(who, kind, 10, &no_exclusions))
            });
        });
    }
    let people = seekers(&index, Kind::Peer, 500);
    let mut next = people.iter().cycle();
    group.bench_function("Peer with reasons", |b| {
        b.iter(|| {
            let who = next.next().copied().unwrap_or(PersonId(1));
            let found = index.suggest(who, Kind::Peer, 10, &no_exclusions);
            let reasons: Vec<_> = found
                .iter()
                .filter_map(|s| index.explain(who, s.id, Kind::Peer, &vocabulary))
                .collect();
            black_box(reasons)
        });
    });
    group.finish();
}

fn round(c: &mut Criterion) {
    let population = synth::round_population(1, 10_000, 2_000);
    let index = Index::build(ScoringConfig::default(), population);
    let mentees = index.seeking_mentor();
    let round = index.mentorship_round(&mentees, 50, &IsolationConfig::default(), &no_exclusions);
    let mut group = c.benchmark_group("round 10000x2000x50");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    for solver in [Solver::Exact, Solver::Greedy, Solver::Stable] {
        group.bench_function(solver.name(), |b| {
            b.iter(|| black_box(round.instance.solve(solver)));
        });
    }
    group.finish();
}

/// Circles for 100,000 practitioners (everyone verified and active asks), on one core,
/// beside the greedy construction alone; the objectives and the upper bound are printed once.
fn circles(c: &mut Criterion) {
    let index = Index::build(ScoringConfig::default(), synth::profiles(11, 100_000));
    let isolation = index.isolation_all(&IsolationConfig::default());
    let asked: Vec<(PersonId, f32)> = isolation
        .iter()
        .filter(|(id, _)| index.get(*id).is_some_and(|p| p.verified && p.active))
        .map(|(id, i)| (*id, i.score))
        .collect();
    let rules = CircleRules::default();
    let greedy_only = CircleRules {
        max_passes: 0,
        ..CircleRules::default()
    };
    let formed = index.form_circles(&asked, &rules, &no_exclusions);
    let bound = index.circle_bound(&asked, &rules, &no_exclusions);
    let placed: usize = formed.circles.iter().map(|c| c.members.len()).sum();
    eprintln!(
        "circles: {} asked, {} circles, {} placed; objective {:.1} (greedy {:.1}, +{:.2} %), \
         upper bound {:.1} ({:.1} % of it); {} improvements; {:.0} ms",
        asked.len(),
        formed.circles.len(),
        placed,
        formed.objective,
        formed.greedy_objective,
        100.0 * (formed.objective / formed.greedy_objective - 1.0),
        bound,
        100.0 * formed.objective / bound,
        formed.improvements,
        formed.elapsed.as_secs_f64() * 1000.0
    );
    let mut group = c.benchmark_group("circles 100000");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("greedy then local search", |b| {
        b.iter(|| black_box(index.form_circles(&asked, &rules, &no_exclusions)));
    });
    group.bench_function("greedy alone", |b| {
        b.iter(|| black_box(index.form_circles(&asked, &greedy_only, &no_exclusions)));
    });
    group.finish();
}

criterion_group!(benches, million, round, circles);
criterion_main!(benches);
