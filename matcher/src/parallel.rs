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

/// [`map_on_every_core`], visiting the items in the order of `key`, so that items that read
/// the same data run one after another, and giving the results in the order of `items`.
pub(crate) fn map_on_every_core_by<T: Sync, K: Ord, R: Send>(
    items: &[T],
    key: impl Fn(&T) -> K,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| key(&items[i]));
    let mut placed: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (at, result) in map_on_every_core(&order, |&i| (i, f(&items[i]))) {
        placed[at] = Some(result);
    }
    placed.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_order_given_whatever_the_order_visited() {
        let items: Vec<u32> = (0..2_000).rev().collect();
        let doubled = map_on_every_core_by(&items, |i| i % 7, |i| i * 2);
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }
}
