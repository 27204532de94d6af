//! A graphql-transport-ws client for the tests: connect, initialise, subscribe, and wait for the
//! answers or the close code.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket speaking graphql-transport-ws, not yet initialised.
pub async fn connect(url: &str) -> Socket {
    let mut request = url.into_client_request().expect("a WebSocket URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket connects")
        .0
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("the message is sent");
}

/// `connection_init` with the bearer token in its payload.
pub async fn init(socket: &mut Socket, token: &str) {
    send(
        socket,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
}

pub async fn subscribe(socket: &mut Socket, id: &str, query: &str) {
    send(
        socket,
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
}

/// The errors of the next refused operation (`error`, or `next` carrying errors, as
/// async-graphql answers an operation refused before it runs); panics after `within`.
pub async fn next_errors(socket: &mut Socket, within: Duration) -> Value {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match message["type"].as_str() {
                    Some("error") => return message["payload"].clone(),
                    Some("next") if !message["payload"]["errors"].is_null() => {
                        return message["payload"]["errors"].clone()
                    }
                    _ => {}
                }
            }
        }
        Value::Null
    })
    .await
    .expect("an answer in time")
}

/// The code the server closes the socket with; panics after `within`.
pub async fn close_code(socket: &mut Socket, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("closed in time")
}

/// The data of the next `next` message without errors; panics after `within`.
pub async fn next_data(socket: &mut Socket, within: Duration) -> Value {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if message["type"] == "next" && message["payload"]["errors"].is_null() {
                    return message["payload"]["data"].clone();
                }
            }
        }
        Value::Null
    })
    .await
    .expect("a subscription event in time")
}
