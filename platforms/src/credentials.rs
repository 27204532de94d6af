//! Platform credentials at rest: OAuth2 refresh tokens, encrypted with AES-256-GCM in PostgreSQL
//! (`platform_credentials`), outside the event log. Each ciphertext is bound to its tenant and
//! platform (additional authenticated data), so a row moved to another tenant does not decrypt.

use adflow_domain::campaign::Platform;
use adflow_domain::tenant::PlatformAccount;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Account;

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("ADFLOW_CREDENTIALS_KEY must be 64 hex digits (32 bytes)")]
    BadKey,
    #[error("credentials database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored credential does not decrypt with this key (key {0})")]
    Undecryptable(String),
}

/// The key and its id (the first 8 hex digits of its SHA-256), recorded with each ciphertext.
#[derive(Clone)]
pub struct CredentialKey {
    id: String,
    cipher: Aes256Gcm,
}

impl CredentialKey {
    pub fn from_hex(hex: &str) -> Result<Self, CredentialError> {
        let hex = hex.trim();
        if hex.len() != 64 {
            return Err(CredentialError::BadKey);
        }
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|_| CredentialError::BadKey)?;
        let digest = Sha256::digest(&bytes);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| CredentialError::BadKey)?;
        Ok(Self { id, cipher })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

fn aad(tenant: Uuid, platform: Platform) -> String {
    format!("{tenant}/{}", platform.as_str())
}

#[derive(Clone)]
pub struct Credentials {
    pool: PgPool,
    key: CredentialKey,
}

impl Credentials {
    pub fn new(pool: PgPool, key: CredentialKey) -> Self {
        Self { pool, key }
    }

    pub async fn store(
        &self,
        tenant: Uuid,
        platform: Platform,
        secret: &str,
    ) -> Result<(), CredentialError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = aad(tenant, platform);
        let ciphertext = self
            .key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CredentialError::Undecryptable(self.key.id.clone()))?;
        sqlx::query(
            "INSERT INTO platform_credentials (tenant_id, platform, key_id, nonce, ciphertext, updated_at) \
             VALUES ($1, $2, $3, $4, $5, now()) \
             ON CONFLICT (tenant_id, platform) DO UPDATE SET key_id = $3, nonce = $4, ciphertext = $5, updated_at = now()",
        )
        .bind(tenant)
        .bind(platform.as_str())
        .bind(&self.key.id)
        .bind(nonce.as_slice())
        .bind(ciphertext)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn secret(
        &self,
        tenant: Uuid,
        platform: Platform,
    ) -> Result<Option<String>, CredentialError> {
        let row: Option<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT key_id, nonce, ciphertext FROM platform_credentials WHERE tenant_id = $1 AND platform = $2",
        )
        .bind(tenant)
        .bind(platform.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some((key_id, nonce, ciphertext)) = row else {
            return Ok(None);
        };
        if nonce.len() != 12 {
            return Err(CredentialError::Undecryptable(key_id));
        }
        let aad = aad(tenant, platform);
        let plain = self
            .key
            .cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CredentialError::Undecryptable(key_id))?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| CredentialError::Undecryptable(self.key.id.clone()))
    }

    pub async fn remove(&self, tenant: Uuid, platform: Platform) -> Result<(), CredentialError> {
        sqlx::query("DELETE FROM platform_credentials WHERE tenant_id = $1 AND platform = $2")
            .bind(tenant)
            .bind(platform.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The account an adapter acts on: the connection from the log and the secret from the store.
pub fn account(platform: Platform, connection: &PlatformAccount, refresh_token: String) -> Account {
    match platform {
        Platform::Google => Account::Google {
            customer_id: connection.account_id.clone(),
            login_customer_id: connection.login_customer_id.clone(),
            refresh_token,
        },
        Platform::Linkedin => Account::Linkedin {
            account_id: connection.account_id.clone(),
            refresh_token,
        },
    }
}
