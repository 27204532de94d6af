//! Typed ids. All are UUIDv7 when minted by Adflow; any UUID is accepted when parsed, so ids minted
//! elsewhere (imports, tests) keep working.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an id minted by the caller (the domain has no randomness or clock of its own).
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// The customer organisation every piece of data belongs to.
    TenantId
);
uuid_id!(
    /// One advertising campaign, spanning one or more platforms.
    CampaignId
);
uuid_id!(
    /// One audience definition (targeting criteria, later segments and personas).
    AudienceId
);
