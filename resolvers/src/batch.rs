//! Deterministic DataLoader batching.
//!
//! async-graphql's DataLoader starts a batch a fixed delay after the first key arrives. When
//! resolving one "wave" of a page (say, the `client` of 100 referrals) takes longer than that
//! delay — a debug build, a busy machine, a worker thread free to run the batch early — the wave
//! is split over several queries, and a request's statement count starts to depend on timing.
//!
//! Here the request's batches are not spawned on the runtime but queued, and the request is
//! driven by [`BatchQueue::drive`], which starts the queued batches only when the request cannot
//! progress without them, in rounds: by then every key of the wave has been asked for. The loaders' delay is
//! zero, and without async-graphql's `tokio-timer` feature a zero delay is ready at its first
//! poll, so a batch takes its keys the moment it starts. The statement count of a request
//! depends only on its shape.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::stream::{FuturesUnordered, StreamExt};

type Batch = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The batches a request's DataLoader has queued.
#[derive(Clone, Default)]
pub struct BatchQueue(Arc<Mutex<Vec<Batch>>>);

/// How often in a row the request may wake itself (it has more to do at once) before the driver
/// yields to the runtime, so that one large request cannot hog a worker thread.
const MAX_SELF_WAKES: usize = 10_000;

impl BatchQueue {
    /// The DataLoader's spawner: queue instead of spawn.
    pub fn spawner(&self) -> impl Fn(Batch) + Send + Sync + 'static {
        let queue = self.clone();
        move |batch| {
            if let Ok(mut queue) = queue.0.lock() {
                queue.push(batch);
            }
        }
    }

    fn take(&self) -> Vec<Batch> {
        self.0.lock().map(|mut queue| std::mem::take(&mut *queue)).unwrap_or_default()
    }

    /// Drives `request` to completion, running queued batches whenever it waits.
    pub async fn drive<F: Future>(&self, request: F) -> F::Output {
        // Tokio's cooperative budget would make the request wake itself mid-wave.
        tokio::task::unconstrained(self.drive_inner(request)).await
    }

    async fn drive_inner<F: Future>(&self, request: F) -> F::Output {
        let mut request = pin!(request);
        // The batches of the current round. The next round starts only when this one has finished
        // and the request has used its results: by then the loaders remember every row of the
        // earlier rounds, so a key asked for again by a deeper field costs no second query.
        let mut round = FuturesUnordered::new();
        std::future::poll_fn(|cx| {
            let mut self_wakes = 0;
            loop {
                while let Poll::Ready(Some(())) = round.poll_next_unpin(cx) {}
                // The request keeps running while a round is out: its own queries must finish
                // and hand back their pool connections, or the round could wait on the pool.
                let woken = Arc::new(Flag { set: AtomicBool::new(false), waker: cx.waker().clone() });
                let waker = Waker::from(woken.clone());
                if let Poll::Ready(output) = request.as_mut().poll(&mut Context::from_waker(&waker)) {
                    return Poll::Ready(output);
                }
                if woken.set.load(Ordering::SeqCst) {
                    self_wakes += 1;
                    if self_wakes < MAX_SELF_WAKES {
                        continue;
                    }
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                if !round.is_empty() {
                    return Poll::Pending;
                }
                let next = self.take();
                if next.is_empty() {
                    return Poll::Pending;
                }
                round.extend(next);
            }
        })
        .await
    }
}

/// Wakes the driving task and remembers that it did.
struct Flag {
    set: AtomicBool,
    waker: Waker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.set.store(true, Ordering::SeqCst);
        self.waker.wake_by_ref();
    }
}
