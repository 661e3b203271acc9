//! Sends accepted and not yet answered, counted for a graceful shutdown.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use tokio::sync::Notify;

/// Counts sends accepted and not yet answered; closed, it accepts no more.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// One accepted send; answered when dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Drain>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// Accepts one more send, unless closing.
    pub(crate) fn begin(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.closed.load(Ordering::Acquire) {
            drop(InFlight(self.clone()));
            return None;
        }
        Some(InFlight(self.clone()))
    }

    /// Accepts no more sends.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Waits until every accepted send was answered.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_drain_refuses_and_waits_for_the_accepted() {
        let drain = Arc::new(Drain::default());
        let accepted = drain.begin().unwrap();
        drain.close();
        assert!(drain.begin().is_none());
        let waiting = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(accepted);
        waiting.await.unwrap();
    }
}
