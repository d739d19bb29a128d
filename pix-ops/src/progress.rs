//! The one way a workflow tells its caller what happens as it happens.
//!
//! Each workflow has its own event type ([`crate::deploy::DeployEvent`],
//! [`crate::reset::Event`], [`crate::release::ReleaseEvent`],
//! [`crate::provision::ApplyEvent`]) and takes a `&dyn Progress<ItsEvent>`;
//! [`Silent`] ignores the events of every workflow, and [`Forward`] passes
//! one workflow's events on to a caller that wraps them in its own (a
//! release's deploy).

/// Receives a workflow's events, in order, as they happen.
pub trait Progress<E>: Send + Sync {
    /// Called for every event, in order.
    fn event(&self, event: E);
}

/// A progress sink that ignores every event, of every workflow.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl<E> Progress<E> for Silent {
    fn event(&self, _event: E) {}
}

/// Passes events of type `D` on to a sink of `E`, each made an `E` by
/// `E::from` (a release's deploy events become
/// [`crate::release::ReleaseEvent::Deploy`]).
pub struct Forward<'a, E>(pub &'a dyn Progress<E>);

impl<D, E: From<D>> Progress<D> for Forward<'_, E> {
    fn event(&self, event: D) {
        self.0.event(E::from(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Progress<String> for Recorder {
        fn event(&self, event: String) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[test]
    fn silent_takes_any_event_and_forward_wraps() {
        Progress::<u8>::event(&Silent, 1);
        Progress::<String>::event(&Silent, "x".into());
        let recorder = Recorder::default();
        let forward = Forward(&recorder);
        Progress::<&str>::event(&forward, "a");
        Progress::<char>::event(&forward, 'b');
        assert_eq!(*recorder.0.lock().unwrap(), ["a", "b"]);
    }
}
