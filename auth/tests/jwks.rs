//! Tokens of an OAuth2 identity provider, verified against its JWKS: RS256 and ES256 keys, the
//! issuer and audience, expiry, and tokens no key of the set signed.

use adflow_auth::{AuthError, Authenticator, Role};
use adflow_testkit::identity_provider::{provider_token, JWKS};
use jsonwebtoken::Algorithm;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(algorithm: Algorithm, kid: &str, claims: serde_json::Value) -> String {
    provider_token(algorithm, kid, &claims)
}

fn claims(tenant: Uuid) -> serde_json::Value {
    json!({"sub": "auth0|42", "tenant": tenant, "role": "manager", "iss": "https://id.example/",
           "aud": "adflow", "exp": now() + 300})
}

fn authenticator() -> Authenticator {
    Authenticator::hs256(b"local")
        .with_jwks(
            JWKS,
            Some("https://id.example/".into()),
            Some("adflow".into()),
        )
        .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn rs256_and_es256_tokens_of_the_identity_provider_are_accepted() {
    let auth = authenticator();
    let tenant = Uuid::now_v7();
    for (algorithm, kid) in [
        (Algorithm::RS256, "rsa-test"),
        (Algorithm::ES256, "ec-test"),
    ] {
        let principal = auth
            .authenticate(Some(&bearer(&token(algorithm, kid, claims(tenant)))))
            .unwrap();
        assert_eq!(principal.tenant_id.0, tenant);
        assert_eq!(principal.role, Role::Manager);
        assert_eq!(principal.actor(), "user:auth0|42");
    }
    // The development tokens still work beside them.
    let local = auth
        .issue("dev", adflow_domain::TenantId(tenant), Role::Viewer, 60)
        .unwrap();
    assert!(auth.authenticate(Some(&bearer(&local))).is_ok());
}

#[test]
fn wrong_issuer_audience_expiry_or_key_is_refused() {
    let auth = authenticator();
    let tenant = Uuid::now_v7();
    let mut cases = Vec::new();
    let mut wrong_issuer = claims(tenant);
    wrong_issuer["iss"] = json!("https://evil.example/");
    cases.push(("issuer", token(Algorithm::RS256, "rsa-test", wrong_issuer)));
    let mut wrong_audience = claims(tenant);
    wrong_audience["aud"] = json!("someone-else");
    cases.push((
        "audience",
        token(Algorithm::RS256, "rsa-test", wrong_audience),
    ));
    let mut expired = claims(tenant);
    expired["exp"] = json!(now() - 3_600);
    cases.push(("expiry", token(Algorithm::ES256, "ec-test", expired)));
    cases.push((
        "unknown kid",
        token(Algorithm::RS256, "rotated-away", claims(tenant)),
    ));
    let mut no_tenant = claims(tenant);
    no_tenant.as_object_mut().unwrap().remove("tenant");
    cases.push((
        "no tenant claim",
        token(Algorithm::RS256, "rsa-test", no_tenant),
    ));
    for (what, token) in cases {
        assert!(
            matches!(
                auth.authenticate(Some(&bearer(&token))),
                Err(AuthError::InvalidToken(_))
            ),
            "{what}"
        );
    }
    // Without a JWKS, provider tokens are refused outright.
    let local_only = Authenticator::hs256(b"local");
    let token = token(Algorithm::RS256, "rsa-test", claims(tenant));
    assert!(local_only.authenticate(Some(&bearer(&token))).is_err());
}

#[test]
fn a_set_without_usable_keys_is_a_configuration_error() {
    assert!(Authenticator::hs256(b"x")
        .with_jwks("{\"keys\": []}", None, None)
        .is_err());
    assert!(Authenticator::hs256(b"x")
        .with_jwks("not json", None, None)
        .is_err());
}

#[test]
fn rotated_keys_replace_the_old_ones_everywhere() {
    let only_rsa = {
        let mut set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
        set["keys"]
            .as_array_mut()
            .unwrap()
            .retain(|k| k["kty"] == "RSA");
        set.to_string()
    };
    let auth = Authenticator::hs256(b"local")
        .with_jwks(
            &only_rsa,
            Some("https://id.example/".into()),
            Some("adflow".into()),
        )
        .unwrap();
    let shared = auth.clone();
    let ec_token = bearer(&token(Algorithm::ES256, "ec-test", claims(Uuid::now_v7())));
    assert!(
        shared.authenticate(Some(&ec_token)).is_err(),
        "not in the set yet"
    );
    assert!(auth.replace_jwks("garbage").is_err());
    auth.replace_jwks(JWKS).unwrap();
    assert!(
        shared.authenticate(Some(&ec_token)).is_ok(),
        "a clone sees the rotation"
    );
    assert!(
        Authenticator::hs256(b"x").replace_jwks(JWKS).is_err(),
        "no provider configured"
    );
}
