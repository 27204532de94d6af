//! Per-field role checks: the rule is the role table in `adflow_auth::Role::may`; this only asks it.

use crate::errors::ErrorCode;
use adflow_auth::{Action, Principal};
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
