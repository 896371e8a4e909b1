//! Data that lives on the server: what we have, whether a newer copy is on its way, and the
//! last error. Old data stays on screen while a refresh runs, so refreshing never blanks it.
//!
//! At most one fetch per view is in flight. A change announced meanwhile asks for exactly one
//! more, sent when the reply arrives: however fast changes come, every reply is taken, the
//! screen ends on data fetched after the last change, and downloads never pile up.

use crate::api::ApiError;

#[derive(Debug, Clone)]
pub struct Remote<T> {
    pub data: Option<T>,
    pub loading: bool,
    pub error: Option<ApiError>,
    /// The generation of the request in flight; replies to any other are dropped.
    wanted: u64,
    /// Another fetch was asked for while one was in flight.
    again: bool,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Remote {
            data: None,
            loading: false,
            error: None,
            wanted: 0,
            again: false,
        }
    }
}

impl<T> Remote<T> {
    pub fn loaded(data: T) -> Self {
        Remote {
            data: Some(data),
            ..Remote::default()
        }
    }

    pub fn failed(error: ApiError) -> Self {
        Remote {
            error: Some(error),
            ..Remote::default()
        }
    }

    pub fn loading() -> Self {
        Remote {
            loading: true,
            ..Remote::default()
        }
    }

    /// Starts a fetch; false (and one more is owed) when one is already in flight.
    pub fn begin(&mut self, generation: u64) -> bool {
        if self.loading {
            self.again = true;
            return false;
        }
        self.loading = true;
        self.wanted = generation;
        true
    }

    /// Whether a fetch was asked for while the last one was in flight (asked once).
    pub fn take_again(&mut self) -> bool {
        std::mem::take(&mut self.again)
    }

    /// Ends the fetch in flight without taking its data (it answered a question that is no
    /// longer asked, e.g. another user's log).
    pub fn finish(&mut self, generation: u64) {
        if generation == self.wanted {
            self.loading = false;
        }
    }

    /// Takes a reply; returns false when it is stale.
    pub fn accept(&mut self, generation: u64, result: Result<T, ApiError>) -> bool {
        if generation != self.wanted {
            return false;
        }
        self.loading = false;
        match result {
            Ok(data) => {
                self.data = Some(data);
                self.error = None;
            }
            Err(err) => self.error = Some(err),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_fetch_in_flight_and_changes_meanwhile_owe_exactly_one_more() {
        let mut remote = Remote::<u32>::default();
        assert!(remote.begin(1));
        assert!(!remote.begin(2), "one in flight");
        assert!(!remote.begin(3));
        assert!(remote.accept(1, Ok(10)), "the reply in flight is taken");
        assert!(remote.take_again());
        assert!(!remote.take_again(), "once");
        assert!(remote.begin(4));
        assert!(
            !remote.accept(1, Ok(99)),
            "a reply to another request is dropped"
        );
        assert!(remote.accept(4, Ok(40)));
        assert_eq!(remote.data, Some(40));
    }

    #[test]
    fn an_error_keeps_the_data_already_shown() {
        let mut remote = Remote::loaded(5u32);
        remote.begin(1);
        remote.accept(1, Err(ApiError::Network("down".into())));
        assert_eq!(remote.data, Some(5));
        assert!(remote.error.is_some());
        assert!(!remote.loading);
    }
}
