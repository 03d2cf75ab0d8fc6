//! Running independent pure work on the cores the process may use: the
//! analyses and rules share the loaded trace read-only, so each can run on
//! its own thread. Results come back in input order, so the output is the
//! same as one thread's.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads to use: the cores this process may run on (cgroup and affinity
/// aware), at least one.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `f` over `items`, in parallel, results in `items`' order. Threads take
/// the next item as they finish one, so a slow item does not hold up the
/// others (list the costly items first).
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = threads().min(items.len());
    if n <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Run `a` and `b` at once when there is a second core; `(a(), b())`.
pub fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    if threads() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let other = s.spawn(a);
        let rb = b();
        let ra = other.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (ra, rb)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order_and_join_returns_both() {
        let items: Vec<u64> = (0..100).collect();
        let squares = map(&items, |x| x * x);
        assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert_eq!(map(&[] as &[u64], |x| *x), Vec::<u64>::new());
        assert_eq!(join(|| 1, || "b"), (1, "b"));
    }
}
