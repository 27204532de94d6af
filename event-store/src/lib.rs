//! The event store: the one write path of Adflow.
//!
//! The port is split the way eventually-rs splits it: an [`EventAppender`] that writes and an
//! [`EventReader`] that reads streams and the global log, so a projector that only reads cannot
//! append. [`EventStore`] is both. Two adapters implement it: [`postgres::PostgresEventStore`] (runs
//! here, and in small installs) and [`kurrent::KurrentEventStore`] (EventStoreDB/KurrentDB through the
//! official client). Both pass the suite in [`contract`].

mod catch_up;
pub mod chain;
pub mod checkpoints;
pub mod contract;
mod error;
mod group_commit;
pub mod kurrent;
mod model;
pub mod personal;
mod port;
pub mod postgres;

pub use error::StoreError;
pub use model::{
    AppendOutcome, EventMetadata, ExpectedVersion, NewEvent, Position, PositionParseError,
    RecordedEvent,
};
pub use port::{EventAppender, EventReader, EventStore, EventSubscription};
