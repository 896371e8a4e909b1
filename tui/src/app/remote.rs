//! Data that lives on the server: what we have, whether a newer copy is on its way, and the
//! last error. Old data stays on screen while a refresh runs, so refreshing never blanks it.

use crate::api::ApiError;

#[derive(Debug, Clone)]
pub struct Remote<T> {
    pub data: Option<T>,
    pub loading: bool,
    pub error: Option<ApiError>,
    /// The generation of the newest request; replies to older ones are dropped, so a slow
    /// reply can never overwrite a newer one.
    wanted: u64,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Remote {
            data: None,
            loading: false,
            error: None,
            wanted: 0,
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

    pub fn begin(&mut self, generation: u64) {
        self.loading = true;
        self.wanted = generation;
    }

    /// Takes a reply; returns false when it is stale.
    pub fn accept(&mut self, generation: u64, result: Result<T, ApiError>) -> bool {
        if generation < self.wanted {
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
    fn a_reply_to_an_older_request_is_dropped() {
        let mut remote = Remote::<u32>::default();
        remote.begin(1);
        remote.begin(2);
        assert!(remote.accept(2, Ok(20)));
        assert!(!remote.accept(1, Ok(10)));
        assert_eq!(remote.data, Some(20));
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
