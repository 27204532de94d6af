//! Both gateways and the credential store behind one handle: what the command API (connection
//! tests) and the platform workers hold.

use crate::credentials::{self, Credentials};
use crate::google::GoogleAds;
use crate::http::Endpoints;
use crate::linkedin::LinkedIn;
use crate::{Account, AdPlatform, PlatformError};
use adflow_domain::campaign::Platform;
use adflow_domain::tenant::PlatformAccount;
use uuid::Uuid;

pub struct Platforms {
    google: GoogleAds,
    linkedin: LinkedIn,
    credentials: Credentials,
}

impl Platforms {
    pub fn new(http: reqwest::Client, endpoints: Endpoints, credentials: Credentials) -> Self {
        Self {
            google: GoogleAds::new(http.clone(), endpoints.clone()),
            linkedin: LinkedIn::new(http, endpoints),
            credentials,
        }
    }

    pub fn gateway(&self, platform: Platform) -> &dyn AdPlatform {
        match platform {
            Platform::Google => &self.google,
            Platform::Linkedin => &self.linkedin,
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The tenant's account on `platform`: its connection (from the tenant's settings) and its
    /// secret (from the credential store).
    pub async fn account(
        &self,
        tenant: Uuid,
        platform: Platform,
        connection: Option<&PlatformAccount>,
    ) -> Result<Account, PlatformError> {
        let connection = connection.ok_or(PlatformError::NotConnected(platform.as_str()))?;
        let secret = self
            .credentials
            .secret(tenant, platform)
            .await
            .map_err(|e| PlatformError::Credentials(e.to_string()))?
            .ok_or(PlatformError::NotConnected(platform.as_str()))?;
        Ok(credentials::account(platform, connection, secret))
    }
}
