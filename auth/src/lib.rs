//! Who is calling and what they may do.
//!
//! Callers present a bearer JWT whose claims name their tenant (`tenant`) and role (`role`).
//! Locally the tokens are HS256-signed with a development key (`adflow token` prints one); an
//! OAuth2 identity provider's RS256/ES256 tokens are verified against its JWKS
//! (`Authenticator::with_jwks`). Integrators' API keys are checked by the command API (they need
//! its database). The role table below is the one place that says which role may do what.

use adflow_domain::TenantId;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

pub const ISSUER: &str = "adflow";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Analyst,
    Viewer,
    /// Reads everything of its tenant, money and history included; writes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Analyst,
        Role::Viewer,
        Role::Auditor,
    ];

    pub fn parse(value: &str) -> Option<Role> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(value))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
        }
    }

    /// The role table: Admin does everything; Manager runs campaigns; Analyst reads and maintains
    /// audiences; Viewer reads what the campaigns are and how they perform, but not money (spend,
    /// revenue, cost ratios, pacing) nor who did what (the audit history); Auditor reads all of
    /// it, money and history included, and writes nothing.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::ReadSpend | Action::ReadAudit => matches!(
                self,
                Role::Admin | Role::Manager | Role::Analyst | Role::Auditor
            ),
            Action::ManageCampaigns => matches!(self, Role::Admin | Role::Manager),
            Action::ManageAudiences => matches!(self, Role::Admin | Role::Manager | Role::Analyst),
            Action::RecordWorkResults | Action::ManageSettings => matches!(self, Role::Admin),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    /// Money: spend, revenue, CPC, CPA, ROAS, budget utilisation and pacing.
    ReadSpend,
    /// The event history of an aggregate, with its actors.
    ReadAudit,
    ManageCampaigns,
    ManageAudiences,
    /// Report the outcome of work done outside the API: generated structures, deployments (the
    /// ML workers and platform gateways, with an admin service token).
    RecordWorkResults,
    /// Tenant-wide settings such as the optimisation guardrails.
    ManageSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    tenant: Uuid,
    role: Role,
    // An identity provider may leave these out; the HS256 validation requires `iss` itself.
    #[serde(default)]
    iss: String,
    #[serde(default)]
    iat: u64,
    exp: u64,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject, or the API key's id.
    pub subject: String,
    pub tenant_id: TenantId,
    pub role: Role,
    pub kind: CallerKind,
    /// Until when the credential holds, in seconds since the Unix epoch: a token's `exp`; `None`
    /// for an API key, which holds until it is revoked. Long-lived connections (subscriptions)
    /// end here.
    pub expires_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// A person or service with a bearer JWT.
    User,
    /// An integrator's API key.
    ApiKey,
}

impl Principal {
    pub fn api_key(key_id: Uuid, tenant_id: TenantId, role: Role) -> Principal {
        Principal {
            subject: key_id.to_string(),
            tenant_id,
            role,
            kind: CallerKind::ApiKey,
            expires_at: None,
        }
    }

    /// The actor recorded on the events this caller causes.
    pub fn actor(&self) -> String {
        match self.kind {
            CallerKind::User => format!("user:{}", self.subject),
            CallerKind::ApiKey => format!("key:{}", self.subject),
        }
    }
}

/// API keys read `adf_<key id, 32 hex>_<secret>`: the id finds the key, the secret proves it.
pub const API_KEY_PREFIX: &str = "adf_";

/// The key id and secret of a bearer value that is an API key; `None` for anything else.
pub fn parse_api_key(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id = Uuid::try_parse(id).ok()?;
    (!secret.is_empty()).then_some((id, secret))
}

/// The bearer value of an `Authorization` header.
pub fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MissingToken)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>`")]
    MissingToken,
    #[error("the bearer token is invalid or expired: {0}")]
    InvalidToken(String),
    #[error("cannot sign a token: {0}")]
    Signing(String),
}

/// Why a token was refused, in words that name the client's problem and none of the parser's
/// internals (which byte of which base64 segment failed).
fn why(error: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidIssuer => "the token was issued by another issuer",
        ErrorKind::InvalidAudience => "the token is meant for another audience",
        ErrorKind::InvalidAlgorithm => "the token is signed with an algorithm not accepted here",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::Json(_) => {
            "the token's claims are not the ones expected (sub, tenant, role, exp)"
        }
        _ => "the bearer token is malformed",
    }
}

#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// The identity provider's public keys, when configured; replaced whole when they rotate.
    jwks: Option<std::sync::Arc<std::sync::RwLock<std::sync::Arc<Jwks>>>>,
}

/// Public keys from a JWKS document (RS256 and ES256 only: the algorithms a key may use are the
/// key's own, never the token's say-so), with the issuer and audience its tokens must carry.
struct Jwks {
    keys: Vec<(Option<String>, Algorithm, DecodingKey)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Jwks {
    fn parse(
        document: &str,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Jwks, JwksError> {
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_str(document).map_err(|e| JwksError(e.to_string()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            use jsonwebtoken::jwk::AlgorithmParameters as P;
            let algorithm = match &jwk.algorithm {
                P::RSA(_) => Algorithm::RS256,
                P::EllipticCurve(ec) if ec.curve == jsonwebtoken::jwk::EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                // Other curves and symmetric keys are not for verifying third-party tokens.
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| JwksError(e.to_string()))?;
            keys.push((jwk.common.key_id.clone(), algorithm, key));
        }
        if keys.is_empty() {
            return Err(JwksError("no RS256 or ES256 key in the set".into()));
        }
        Ok(Jwks {
            keys,
            issuer,
            audience,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JWKS: {0}")]
pub struct JwksError(String);

impl Authenticator {
    /// HS256 with a shared secret: the local development setting.
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            jwks: None,
        }
    }

    /// Also accepts tokens signed by the keys of `jwks` (a JWKS document), with `issuer` and
    /// `audience` required when given.
    pub fn with_jwks(
        mut self,
        jwks: &str,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Self, JwksError> {
        let keys = Jwks::parse(jwks, issuer, audience)?;
        self.jwks = Some(std::sync::Arc::new(std::sync::RwLock::new(
            std::sync::Arc::new(keys),
        )));
        Ok(self)
    }

    /// Replaces the provider's keys with those of a newer JWKS document (key rotation), keeping
    /// the issuer and audience; every clone of this authenticator sees the new keys. A document
    /// that does not parse leaves the old keys in place.
    pub fn replace_jwks(&self, jwks: &str) -> Result<(), JwksError> {
        let shared = self
            .jwks
            .as_ref()
            .ok_or_else(|| JwksError("no JWKS is configured".into()))?;
        let current = self
            .current_jwks()
            .ok_or_else(|| JwksError("no JWKS".into()))?;
        let fresh = Jwks::parse(jwks, current.issuer.clone(), current.audience.clone())?;
        match shared.write() {
            Ok(mut keys) => *keys = std::sync::Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = std::sync::Arc::new(fresh),
        }
        Ok(())
    }

    fn current_jwks(&self) -> Option<std::sync::Arc<Jwks>> {
        let shared = self.jwks.as_ref()?;
        // Nothing panics while holding the lock; a poisoned one still holds valid keys.
        let keys = match shared.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Some(keys)
    }

    fn decode_claims(&self, token: &str) -> Result<Claims, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::InvalidToken(why(&e).into());
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if header.alg == Algorithm::HS256 {
            return Ok(decode::<Claims>(token, &self.decoding, &self.validation)
                .map_err(invalid)?
                .claims);
        }
        let jwks = self.current_jwks().ok_or_else(|| {
            AuthError::InvalidToken(format!("{:?} tokens are not accepted here", header.alg))
        })?;
        let (_, algorithm, key) = jwks
            .keys
            .iter()
            .find(|(kid, algorithm, _)| {
                *algorithm == header.alg && (header.kid.is_none() || *kid == header.kid)
            })
            .ok_or_else(|| {
                AuthError::InvalidToken("no key of the JWKS signed this token".into())
            })?;
        let mut validation = Validation::new(*algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        match &jwks.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &jwks.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(decode::<Claims>(token, key, &validation)
            .map_err(invalid)?
            .claims)
    }

    /// Verifies the value of an `Authorization` header.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let token = bearer(authorization)?;
        let claims = self.decode_claims(token)?;
        Ok(Principal {
            subject: claims.sub,
            tenant_id: TenantId(claims.tenant),
            role: claims.role,
            kind: CallerKind::User,
            expires_at: Some(claims.exp),
        })
    }

    /// Signs a token valid for `ttl_seconds` from now.
    pub fn issue(
        &self,
        subject: &str,
        tenant: TenantId,
        role: Role,
        ttl_seconds: u64,
    ) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = Claims {
            sub: subject.to_owned(),
            tenant: tenant.0,
            role,
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Signing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_a_foreign_key_is_refused() {
        let auth = Authenticator::hs256(b"secret");
        let tenant = TenantId(Uuid::now_v7());
        let token = auth.issue("alice", tenant, Role::Manager, 60).unwrap();
        let principal = auth.authenticate(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(principal.tenant_id, tenant);
        assert_eq!(principal.role, Role::Manager);
        assert_eq!(principal.actor(), "user:alice");

        let other = Authenticator::hs256(b"other");
        assert!(matches!(
            other.authenticate(Some(&format!("Bearer {token}"))),
            Err(AuthError::InvalidToken(_))
        ));
        assert_eq!(auth.authenticate(None), Err(AuthError::MissingToken));
        assert_eq!(
            auth.authenticate(Some("Basic abc")),
            Err(AuthError::MissingToken)
        );
        assert!(matches!(
            auth.authenticate(Some("Bearer not.a.jwt")),
            Err(AuthError::InvalidToken(_))
        ));
    }

    #[test]
    fn an_auditor_reads_money_and_history_and_writes_nothing() {
        let auditor = Role::parse("AUDITOR").unwrap();
        assert_eq!(auditor, Role::Auditor);
        for action in [Action::Read, Action::ReadSpend, Action::ReadAudit] {
            assert!(auditor.may(action), "{action:?}");
        }
        for action in [
            Action::ManageCampaigns,
            Action::ManageAudiences,
            Action::RecordWorkResults,
            Action::ManageSettings,
        ] {
            assert!(!auditor.may(action), "{action:?}");
        }
    }

    #[test]
    fn an_expired_token_is_refused() {
        let auth = Authenticator::hs256(b"secret");
        let mut claims = Claims {
            sub: "a".into(),
            tenant: Uuid::nil(),
            role: Role::Admin,
            iss: ISSUER.into(),
            iat: 0,
            exp: 1,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(auth.authenticate(Some(&format!("Bearer {token}"))).is_err());
        claims.exp = u64::MAX / 2;
        claims.iss = "someone-else".into();
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(auth.authenticate(Some(&format!("Bearer {token}"))).is_err());
    }

    #[test]
    fn the_role_table() {
        use Action::*;
        let table = [
            (Role::Admin, [true, true, true, true]),
            (Role::Manager, [true, true, true, false]),
            (Role::Analyst, [true, false, true, false]),
            (Role::Viewer, [true, false, false, false]),
        ];
        for (role, expected) in table {
            assert_eq!(
                [
                    role.may(Read),
                    role.may(ManageCampaigns),
                    role.may(ManageAudiences),
                    role.may(RecordWorkResults)
                ],
                expected,
                "{role}"
            );
        }
        assert!(Role::Admin.may(ManageSettings) && !Role::Manager.may(ManageSettings));
        assert_eq!(Role::parse("MANAGER"), Some(Role::Manager));
        assert_eq!(Role::parse("root"), None);
    }
}
