//! filled in with the end-to-end tests
