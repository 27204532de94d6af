//! GraphQL subscriptions (graphql-transport-ws): campaign status changes, deployment progress and
//! new recommendations, fed by the `campaigns` projector's notifications and scoped to the
//! subscriber's tenant.

use crate::campaigns::{platform, status, CampaignStatus, DeploymentStatus, Platform};
use crate::db::ReadDb;
use crate::guard::principal;
use crate::recommendations::{ProposalRow, Recommendation};
use adflow_projections::live::{Change, ChangeKind, CHANNEL};
use async_graphql::{Context, SimpleObject, Subscription as SubscriptionRoot, ID};
use futures_util::{Stream, StreamExt};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// How many changes a slow subscriber may fall behind before it misses some.
const BACKLOG: usize = 4_096;

/// The fan-out of the projector's notifications to this process's subscribers.
#[derive(Clone)]
pub struct LiveChanges {
    sender: broadcast::Sender<Change>,
}

impl LiveChanges {
    /// Listens on the read models' channel for as long as the process runs, reconnecting after
    /// a lost connection (changes announced meanwhile are not replayed: a client that must not
    /// miss any re-reads with a query after it resubscribes).
    pub fn listen(pool: PgPool) -> LiveChanges {
        let (sender, _) = broadcast::channel(BACKLOG);
        let live = LiveChanges {
            sender: sender.clone(),
        };
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(100);
            loop {
                match follow(&pool, &sender).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::warn!(%error, "live changes: listener failed; reconnecting");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        live
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

async fn follow(pool: &PgPool, sender: &broadcast::Sender<Change>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let notification = listener.recv().await?;
        match serde_json::from_str::<Change>(notification.payload()) {
            // No subscriber is not an error.
            Ok(change) => drop(sender.send(change)),
            Err(error) => tracing::warn!(%error, "live changes: unreadable notification"),
        }
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct CampaignStatusChange {
    pub campaign_id: ID,
    pub status: CampaignStatus,
    /// Pass as `minPosition` to read the campaign as of this change.
    pub position: String,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct DeploymentProgress {
    pub campaign_id: ID,
    pub platform: Platform,
    pub status: DeploymentStatus,
    pub position: String,
}

/// Changes of the caller's tenant, of one campaign when `campaign` is given.
fn changes(
    ctx: &Context<'_>,
    kind: ChangeKind,
    campaign: Option<ID>,
) -> async_graphql::Result<impl Stream<Item = Change> + use<>> {
    let tenant = principal(ctx)?.tenant_id.0;
    let campaign = campaign
        .map(|id| {
            Uuid::parse_str(&id).map_err(|_| {
                crate::errors::ErrorCode::BadUserInput.error("campaignId is not an id")
            })
        })
        .transpose()?;
    let receiver = ctx.data::<LiveChanges>()?.subscribe();
    let received = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) => return Some((change, receiver)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind and missed changes");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(received.filter(move |change| {
        let wanted = change.tenant == tenant
            && change.kind == kind
            && campaign.is_none_or(|c| c == change.campaign);
        async move { wanted }
    }))
}

#[derive(Default)]
pub struct Subscription;

#[SubscriptionRoot]
impl Subscription {
    /// Every status change of your tenant's campaigns (or of one).
    async fn campaign_status_changed(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = CampaignStatusChange>> {
        Ok(
            changes(ctx, ChangeKind::Status, campaign_id)?.filter_map(|change| async move {
                Some(CampaignStatusChange {
                    campaign_id: ID(change.campaign.to_string()),
                    status: status(change.status.as_deref()?)?,
                    position: change.position,
                })
            }),
        )
    }

    /// Deployment progress per platform of your tenant's campaigns (or of one).
    async fn deployment_progress(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = DeploymentProgress>> {
        Ok(
            changes(ctx, ChangeKind::Deployment, campaign_id)?.filter_map(|change| async move {
                Some(DeploymentProgress {
                    campaign_id: ID(change.campaign.to_string()),
                    platform: platform(change.platform.as_deref()?)?,
                    status: match change.status.as_deref()? {
                        "REQUESTED" => DeploymentStatus::Requested,
                        "DEPLOYED" => DeploymentStatus::Deployed,
                        "FAILED" => DeploymentStatus::Failed,
                        _ => return None,
                    },
                    position: change.position,
                })
            }),
        )
    }

    /// Anomalies found in your tenant's campaigns (or one), as they are recorded. Refused, with
    /// a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "crate::guard::RoleGuard(adflow_auth::Action::ReadSpend)")]
    async fn anomaly_detected(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = crate::anomalies::AnomalyFound>> {
        let db = ctx.data::<ReadDb>()?.clone();
        Ok(
            changes(ctx, ChangeKind::Anomaly, campaign_id)?.filter_map(move |change| {
                let db = db.clone();
                async move {
                    let monitor = adflow_domain::monitoring::monitor_stream_id(change.campaign);
                    // Committed before the notification was sent, so it is there to read.
                    let row = sqlx::query(
                        "SELECT data, recorded_at FROM activity \
                     WHERE tenant_id = $1 AND aggregate_id = $2 AND stream_version = $3",
                    )
                    .bind(change.tenant)
                    .bind(monitor)
                    .bind(i64::try_from(change.monitor_version?).ok()?)
                    .fetch_optional(db.statement())
                    .await
                    .map_err(|error| tracing::warn!(%error, "cannot read a detected anomaly"))
                    .ok()??;
                    crate::anomalies::decode(&row)
                }
            }),
        )
    }

    /// New notices in your tenant's feed (of one campaign, with `campaignId`), as they are
    /// raised; `read` is false.
    async fn notification_raised(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = crate::notifications::Notification>> {
        let db = ctx.data::<ReadDb>()?.clone();
        let (_, inbox) = crate::notifications::caller_inbox(ctx)?;
        Ok(
            changes(ctx, ChangeKind::Notification, campaign_id)?.filter_map(move |change| {
                let db = db.clone();
                async move {
                    // Committed before the notification was sent, so it is there to read.
                    let row = sqlx::query(&format!(
                        "{} WHERE n.tenant_id = $1 AND n.id = $3",
                        crate::notifications::SELECT
                    ))
                    .bind(change.tenant)
                    .bind(inbox)
                    .bind(change.notification?)
                    .fetch_optional(db.statement())
                    .await
                    .map_err(|error| tracing::warn!(%error, "cannot read a raised notice"))
                    .ok()??;
                    crate::notifications::decode(&row).ok()?
                }
            }),
        )
    }

    /// New recommendations for your tenant's campaigns (or one), as they are proposed.
    async fn recommendation_proposed(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Recommendation>> {
        let db = ctx.data::<ReadDb>()?.clone();
        Ok(
            changes(ctx, ChangeKind::Recommendation, campaign_id)?.filter_map(move |change| {
                let db = db.clone();
                async move {
                    // Committed before the notification was sent, so it is there to read.
                    let row = sqlx::query(&format!(
                        "{} WHERE tenant_id = $1 AND proposal_id = $2",
                        crate::recommendations::SELECT
                    ))
                    .bind(change.tenant)
                    .bind(change.proposal?)
                    .fetch_optional(db.statement())
                    .await
                    .map_err(
                        |error| tracing::warn!(%error, "cannot read a proposed recommendation"),
                    )
                    .ok()??;
                    ProposalRow::decode(&row).ok()?.into_recommendation().ok()
                }
            }),
        )
    }
}

/// Serves one GraphQL WebSocket: waits at most `CONNECTION_INIT_TIMEOUT` for the first message,
/// then hands the socket to async-graphql through a channel, so that this side can still close it
/// with 4403 when the caller's token expires.
pub(crate) async fn serve_socket(
    socket: axum::extract::ws::WebSocket,
    schema: crate::AdflowSchema,
    protocol: async_graphql_axum::GraphQLProtocol,
    auth: adflow_auth::Authenticator,
    pool: sqlx::PgPool,
    from_header: Option<adflow_auth::Principal>,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt, StreamExt};

    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(crate::CONNECTION_INIT_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(message))) => message,
        Ok(_) => return,
        Err(_) => {
            let _ = sink
                .send(close(4408, "Connection initialisation timeout"))
                .await;
            return;
        }
    };
    let incoming = futures_util::stream::once(async move { Ok(first) }).chain(stream);
    let (outgoing, mut to_client) = tokio::sync::mpsc::channel::<Message>(16);
    let outgoing = futures_util::sink::unfold(outgoing, |outgoing, message: Message| async move {
        outgoing
            .send(message)
            .await
            .map(|()| outgoing)
            .map_err(|_| ())
    });
    // The init callback runs once: it hands the credential's expiry to the loop below.
    let (expiry_sender, expiry) = tokio::sync::oneshot::channel::<Option<u64>>();
    let graphql =
        async_graphql_axum::GraphQLWebSocket::new_with_pair(outgoing, incoming, schema, protocol)
            .on_connection_init(move |payload| async move {
                let principal = match from_header {
                    Some(principal) => principal,
                    None => {
                        let header = ["Authorization", "authorization"]
                            .iter()
                            .find_map(|key| payload.get(*key).and_then(|v| v.as_str()));
                        let unauthenticated =
                            |error: String| crate::ErrorCode::Unauthenticated.error(error);
                        let token = adflow_auth::bearer(header)
                            .map_err(|error| unauthenticated(error.to_string()))?;
                        match adflow_auth::parse_api_key(token) {
                            // The command API's keys, checked once per connection.
                            Some((key_id, secret)) => {
                                adflow_callers::api_keys::authenticate(&pool, key_id, secret)
                                    .await
                                    .map_err(|error| {
                                        crate::ErrorCode::Unavailable.error(error.to_string())
                                    })?
                                    .ok_or_else(|| {
                                        unauthenticated("unknown or revoked API key".into())
                                    })?
                            }
                            None => auth
                                .authenticate(header)
                                .map_err(|error| unauthenticated(error.to_string()))?,
                        }
                    }
                };
                let _ = expiry_sender.send(principal.expires_at);
                let mut data = async_graphql::Data::default();
                data.insert(principal);
                Ok(data)
            })
            .serve();
    let expired = async move {
        match expiry.await {
            Ok(Some(expires_at)) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_secs(
                    expires_at.saturating_sub(now),
                ))
                .await
            }
            // An API key (no expiry), or a connection that never initialised.
            _ => std::future::pending::<()>().await,
        }
    };
    tokio::pin!(graphql, expired);
    let mut graphql_done = false;
    loop {
        tokio::select! {
            () = &mut graphql, if !graphql_done => graphql_done = true,
            message = to_client.recv() => match message {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            () = &mut expired => {
                let _ = sink.send(close(4403, "Forbidden: the token has expired")).await;
                return;
            }
        }
    }
}
