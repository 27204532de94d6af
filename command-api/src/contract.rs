//! Schema fragments of the OpenAPI document for rules a JSON Schema can state, so that the
//! document says what the domain will refuse (`schemars(schema_with = …)` on request fields). The
//! rules themselves live in `domain/`; these restate them for clients, and the authenticated
//! schemathesis run (`ops/fuzz-openapi.sh`) checks that the two agree.

use adflow_domain::audience::{Facet, MAX_VALUES_PER_FACET, VALUE_MAX_CHARS};
use schemars::{json_schema, Schema, SchemaGenerator};

/// Characters a name may not hold anywhere: controls, bidirectional overrides and isolates
/// (`adflow_domain::text`).
const FORBIDDEN: &str = r"\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069";
/// Characters that do not show: white space and zero-width or format characters.
const INVISIBLE: &str = r"\s\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2060-\u2064\u3164\uFE00-\uFE0F\uFEFF\uFFA0";

fn line(max_chars: usize) -> Schema {
    let pattern = format!("^[^{FORBIDDEN}]*[^{FORBIDDEN}{INVISIBLE}][^{FORBIDDEN}]*$");
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": max_chars,
        "pattern": pattern,
        "description": "One line with at least one visible character; no control or bidirectional override characters. Stored trimmed, in Unicode NFC."
    })
}

/// A name (campaigns, audiences, segments, personas, account lists, API keys).
pub fn name(_: &mut SchemaGenerator) -> Schema {
    line(adflow_domain::campaign::NAME_MAX_CHARS)
}

/// An API key's name.
pub fn api_key_name(_: &mut SchemaGenerator) -> Schema {
    line(crate::api_keys::NAME_MAX_CHARS)
}

pub fn date(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "date",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "description": "A calendar day, exactly YYYY-MM-DD (UTC)."
    })
}

pub fn objective(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = adflow_domain::campaign::Objective::ALL
        .iter()
        .map(|o| o.as_str())
        .collect();
    json_schema!({"type": "string", "enum": names})
}

pub fn platforms(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = adflow_domain::campaign::Platform::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    json_schema!({
        "type": "array",
        "minItems": 1,
        "uniqueItems": true,
        "items": {"type": "string", "enum": names}
    })
}

pub fn role(_: &mut SchemaGenerator) -> Schema {
    let mut names: Vec<String> = vec![];
    for role in adflow_auth::Role::ALL {
        names.push(role.as_str().to_owned());
        names.push(role.as_str().to_ascii_uppercase());
    }
    json_schema!({"type": "string", "enum": names, "description": "Any case."})
}

pub fn currency(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "enum": adflow_domain::campaign::SUPPORTED_CURRENCIES,
        "default": "USD",
        "description": "ISO 4217 code of the account currency."
    })
}

pub fn lawful_basis(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": ["CONSENT", "LEGITIMATE_INTEREST", "CONTRACT"]})
}

fn facets(require_locations: bool) -> Schema {
    let values = json_schema!({
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_VALUES_PER_FACET,
        "items": line(VALUE_MAX_CHARS)
    });
    let properties: serde_json::Map<String, serde_json::Value> = Facet::ALL
        .iter()
        .map(|facet| (facet.as_str().to_owned(), values.clone().to_value()))
        .collect();
    let required: Vec<&str> = if require_locations {
        vec!["locations"]
    } else {
        vec![]
    };
    json_schema!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// Facets every matching member has; both platforms need a location.
pub fn include_facets(_: &mut SchemaGenerator) -> Schema {
    facets(true)
}

pub fn exclude_facets(_: &mut SchemaGenerator) -> Schema {
    facets(false)
}

/// A campaign's total budget in micros: positive, at most the domain's ceiling.
pub fn total_budget(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": adflow_domain::campaign::MAX_TOTAL_BUDGET_MICROS
    })
}

/// An OAuth2 refresh token: one line of visible characters, stored trimmed.
pub fn refresh_token(_: &mut SchemaGenerator) -> Schema {
    let pattern = format!("^[^{FORBIDDEN}]*[^{FORBIDDEN}{INVISIBLE}][^{FORBIDDEN}]*$");
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::connections::MAX_SECRET_CHARS,
        "pattern": pattern,
        "writeOnly": true,
        "description": "The OAuth2 refresh token the account's owner granted; stored encrypted, never shown again."
    })
}

/// A Google Ads customer id: ten digits, dashes allowed (`123-456-7890`).
pub fn google_customer_id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$"})
}

/// A LinkedIn ad account: its numeric id, or its URN.
pub fn linkedin_ad_account(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "^(urn:li:sponsoredAccount:)?[0-9]{1,20}$"})
}

/// An optional Google Ads customer id (the manager account access goes through).
pub fn google_login_customer_id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": "^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$"})
}

/// An http(s) URL of a receiver, exactly as `webhooks::receiver_url` checks it: a host name (no
/// address literal), an optional port, a plain path.
pub fn webhook_url(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "uri",
        "maxLength": 2000,
        "pattern": "^https?://[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~-]*)*$"
    })
}

/// `schema`, or `null` (an optional field that may be sent as `null`).
fn or_null(mut schema: Schema) -> Schema {
    schema.insert("type".into(), serde_json::json!(["string", "null"]));
    schema
}

/// An optional receiver URL (`webhook_url`, or `null`).
pub fn webhook_url_or_null(generator: &mut SchemaGenerator) -> Schema {
    or_null(webhook_url(generator))
}

/// An optional e-mail address (`email_address`, or `null`).
pub fn email_address_or_null(generator: &mut SchemaGenerator) -> Schema {
    or_null(email_address(generator))
}

/// A calendar day from 1970 to 2099, exactly YYYY-MM-DD (the days analytics hold).
pub fn analytics_date(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "date",
        "pattern": "^(19[7-9][0-9]|20[0-9][0-9])-[0-9]{2}-[0-9]{2}$",
        "description": "A calendar day from 1970 to 2099, exactly YYYY-MM-DD (UTC)."
    })
}

/// An e-mail address exactly as the domain's inbox checks it (`notifications::email_address`).
pub fn email_address(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": 254,
        "pattern": "^[!#-'*+\\-./0-9=?A-Z^-~]+@[!#-'*+\\-/0-9=?A-Z^-~]+(\\.[!#-'*+\\-/0-9=?A-Z^-~]+)+$"
    })
}

/// Adflow's event types (every version's), for a webhook subscription.
pub fn event_types(_: &mut SchemaGenerator) -> Schema {
    let mut types: Vec<&str> = adflow_domain::contracts::event_contracts()
        .iter()
        .map(|c| c.event_type)
        .collect();
    types.sort_unstable();
    types.dedup();
    json_schema!({
        "type": "array",
        "maxItems": 100,
        "items": {"type": "string", "enum": types},
        "description": "Every event of the tenant when empty."
    })
}
