//! Per-field role checks: the rule is the role table in `adflow_auth::Role::may`; this only asks it.

use crate::errors::ErrorCode;
use adflow_auth::{Action, Principal, Role};
use async_graphql::{Context, Guard};

pub struct RoleGuard(pub Action);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = ctx.data::<Principal>()?;
        if principal.role.may(self.0) {
            Ok(())
        } else {
            Err(ErrorCode::Forbidden.error(format!(
                "the {} role may not read this field",
                principal.role
            )))
        }
    }
}

/// The caller, for resolvers that scope by tenant.
pub fn principal<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    ctx.data::<Principal>()
        .map_err(|_| ErrorCode::Unauthenticated.error("no bearer token"))
}

/// Money is integer micros and every money field's name ends in `Micros` (the platform's
/// convention, in the domain's documents and the platforms' alike). For a role that may not read
/// spend, every such field in a JSON document is set to `null`: the document keeps its shape and
/// hides no other field.
pub fn without_money(role: Role, mut document: serde_json::Value) -> serde_json::Value {
    if role.may(Action::ReadSpend) {
        return document;
    }
    // Without recursion: documents come from the read models, but need not be shallow.
    let mut pending = vec![&mut document];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::Object(fields) => {
                for (name, field) in fields.iter_mut() {
                    if is_money(name) {
                        *field = serde_json::Value::Null;
                    } else {
                        pending.push(field);
                    }
                }
            }
            serde_json::Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
    document
}

fn is_money(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with("micros") && lower != "micros"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn viewers_see_documents_without_money() {
        let document = json!({
            "kind": "CHANGE_BUDGET", "totalBudgetMicros": 5,
            "google": {"dailyBudgetMicros": 7, "bidding": {"strategy": "TARGET_CPA", "target_cpa_micros": 9}},
            "linkedin": {"campaigns": [{"dailyBudgetMicros": 3, "name": "n"}]}
        });
        let hidden = without_money(Role::Viewer, document.clone());
        assert_eq!(
            hidden,
            json!({
                "kind": "CHANGE_BUDGET", "totalBudgetMicros": null,
                "google": {"dailyBudgetMicros": null, "bidding": {"strategy": "TARGET_CPA", "target_cpa_micros": null}},
                "linkedin": {"campaigns": [{"dailyBudgetMicros": null, "name": "n"}]}
            })
        );
        assert_eq!(without_money(Role::Analyst, document.clone()), document);
    }
}
