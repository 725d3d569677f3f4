//! Independent, read-only work per item, spread over every core.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of every item, in order. Each core takes the next block of items as it finishes the
/// last, so a core given the costlier items does not leave the others waiting (no more
/// threads than blocks). A thread that panicked contributes none of its blocks.
pub(crate) fn map_on_every_core<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    const BLOCK: usize = 256;
    let blocks = items.len().div_ceil(BLOCK);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(blocks.max(1));
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let (f, next) = (&f, &next);
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        let start = b.saturating_mul(BLOCK);
                        let Some(block) = items.get(start..items.len().min(start + BLOCK)) else {
                            break;
                        };
                        if block.is_empty() {
                            break;
                        }
                        mine.push((b, block.iter().map(f).collect::<Vec<R>>()));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    done.sort_unstable_by_key(|(b, _)| *b);
    done.into_iter().flat_map(|(_, r)| r).collect()
}
